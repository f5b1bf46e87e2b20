"""The artist a logged-in member may manage (its members, and staff who see every artist)."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from mvsic.models import Artist


def artist_member_get(*, user, slug: str) -> Artist:
    """The artist with this slug if `user` may manage it: 404 unknown, 403 not a member."""
    artist = get_object_or_404(Artist, slug=slug)
    if not artist_is_managed_by(artist=artist, user=user):
        raise PermissionDenied("You are not a member of this artist.")
    return artist


def artist_is_managed_by(*, artist: Artist, user) -> bool:
    if not user.is_authenticated:
        return False
    return user.has_perm("mvsic.view_all_artists") or artist.members.filter(pk=user.pk).exists()
