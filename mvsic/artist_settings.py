"""An artist's settings page for its members: its profile (name, bio, picture, tags) and the
time zone its figures are kept in."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_POST

from mvsic.members import artist_member_get
from mvsic.models import Artist, zone_names
from mvsic.pictures import PictureError, picture_normalise
from mvsic.services import artist_profile_update, artist_timezone_set
from mvsic.tags import MAX_TAGS, TagsError, tags_parse

# Room for the profile form's other fields and the multipart framing around the picture.
FORM_OVERHEAD_BYTES = 64 * 1024


class ZoneForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Time zone",
        help_text="Your dashboard's hours, days and months follow it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = sorted(n for n in zone_names() if "/" in n and not n.startswith("Etc/"))
        self.fields["timezone"].choices = [(n, n) for n in ["UTC", *names]]


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=Artist._meta.get_field("name").max_length)
    bio = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    picture = forms.FileField(
        required=False,
        help_text="JPEG, PNG or WebP; shown at most 512x512, without its metadata (EXIF, GPS).",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    picture_remove = forms.BooleanField(required=False, label="Remove the picture")
    tags = forms.CharField(
        required=False,
        max_length=400,
        help_text=f"Up to {MAX_TAGS}, separated by commas: genres, moods, scenes "
        "(e.g. dream pop, lo-fi).",
    )

    def clean_tags(self) -> dict[str, str]:
        try:
            return tags_parse(self.cleaned_data["tags"])
        except TagsError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_picture(self) -> bytes | None:
        upload = self.cleaned_data.get("picture")
        if not upload:
            return None
        limit = settings.MVSIC_PICTURE_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The picture is {filesizeformat(upload.size)}: the largest is "
                f"{filesizeformat(limit)}."
            )
        try:
            return picture_normalise(upload.read())
        except PictureError as exc:
            raise forms.ValidationError(str(exc)) from exc


@login_required
def artist_settings(request, slug: str):
    artist = artist_member_get(user=request.user, slug=slug)
    form = ZoneForm(request.POST or None, initial={"timezone": artist.timezone})
    if request.method == "POST" and form.is_valid():
        if artist_timezone_set(artist=artist, zone=form.cleaned_data["timezone"]):
            messages.success(
                request,
                f"Time zone set to {artist.timezone}: your figures move to it in a moment.",
            )
        return redirect("artist_settings", slug=artist.slug)
    return _page(request, artist, zone_form=form)


@login_required
@require_POST
def artist_profile(request, slug: str):
    artist = artist_member_get(user=request.user, slug=slug)
    if _declared_length(request) > settings.MVSIC_PICTURE_MAX_BYTES + FORM_OVERHEAD_BYTES:
        # Refused before the body is read: a picture this large is never taken.
        limit = filesizeformat(settings.MVSIC_PICTURE_MAX_BYTES)
        message = f"The picture is larger than {limit}, the largest we take. Nothing was saved."
        return _page(request, artist, error=message, status=413)
    form = ProfileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, artist, profile_form=form)
    data = form.cleaned_data
    artist_profile_update(
        artist=artist,
        name=data["name"],
        bio=data["bio"],
        picture=data["picture"],
        picture_remove=data["picture_remove"],
        tags=data["tags"],
    )
    messages.success(request, "Profile saved.")
    return redirect("artist_settings", slug=artist.slug)


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _page(request, artist: Artist, *, profile_form=None, zone_form=None, error="", status=None):
    profile_form = profile_form or ProfileForm(
        initial={
            "name": artist.name,
            "bio": artist.bio,
            "tags": ", ".join(tag.name for tag in artist.tags.all()),
        }
    )
    zone_form = zone_form or ZoneForm(initial={"timezone": artist.timezone})
    status = status or (400 if profile_form.errors or zone_form.errors else 200)
    context = {"artist": artist, "profile_form": profile_form, "form": zone_form, "error": error}
    return render(request, "mvsic/artist_settings.html", context, status=status)
