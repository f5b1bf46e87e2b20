"""`{% artist_uploads artist %}`: an artist's tracks with their processing status."""

from django import template
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from mvsic.uploads import tracks_panel_context

register = template.Library()


@register.inclusion_tag("mvsic/_uploads_panel.html", takes_context=True)
def artist_uploads(context, artist):
    return {"csrf_token": context.get("csrf_token"), **tracks_panel_context(artist=artist)}


@register.simple_tag
def upload_limit() -> str:
    """The largest upload, for people: "200.0 MB"."""
    return filesizeformat(settings.MVSIC_UPLOAD_MAX_BYTES)
