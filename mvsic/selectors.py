"""Reads of the catalog for the fan pages."""

from django.core.paginator import Page, Paginator
from django.db.models import F, Max, QuerySet

from mvsic.models import Artist, Tag, Track

ARTISTS_PER_PAGE = 48
TRACKS_PER_PAGE = 50
NEW_ARTISTS = 12


def artists_new_list(*, limit: int = NEW_ARTISTS) -> list[Artist]:
    """The most recently added artists, newest first (ids grow with time: the primary key's
    index, whatever the size of the catalog)."""
    return list(Artist.objects.order_by("-id").prefetch_related("tags")[:limit])


def artists_page_get(*, number) -> Page:
    """One page of artists by name; a missing, malformed or out-of-range number gives the
    first or last page (a catalog of any size costs a count and one page)."""
    artists = Artist.objects.order_by("name", "id").prefetch_related("tags")
    return Paginator(artists, ARTISTS_PER_PAGE).get_page(number)


def tag_get(*, slug: str) -> Tag | None:
    return Tag.objects.filter(slug=slug).first()


def tag_artists_page_get(*, tag: Tag, number) -> Page:
    """One page of the tag's artists by name (bad numbers handled as on the home page)."""
    artists = tag.artists.order_by("name", "id").prefetch_related("tags")
    return Paginator(artists, ARTISTS_PER_PAGE).get_page(number)


def tracks_trending_list(*, limit: int = 10) -> list[Track]:
    """The most played visible tracks of the last 24 hours, as ranked every minute by the
    analytics app under the reverse relation `trending` (no import of analytics): one query
    whatever the size of the catalog or of its history."""
    return list(
        Track.objects.visible()
        .filter(trending__isnull=False)
        .select_related("artist")
        .annotate(recent_plays=F("trending__plays"))
        .order_by("-recent_plays", "title")[:limit]
    )


def artist_followed_get(*, artist: Artist, listener: str) -> bool:
    """Whether this listener follows the artist: the latest follow state the analytics app
    keeps under the reverse relation `follow_states`."""
    return (
        bool(listener) and artist.follow_states.filter(listener=listener, following=True).exists()
    )


def artist_tracks_list(*, artist: Artist) -> QuerySet[Track]:
    # `stats` is the public counter row kept by the analytics app (may be missing).
    return artist.tracks.visible().select_related("stats").order_by("position", "title")


def artist_tracks_page_get(*, artist: Artist, number) -> Page:
    """One page of the artist's published tracks in its order (bad numbers handled as on
    the artists' list): a count and one page, however many tracks it has."""
    return Paginator(artist_tracks_list(artist=artist), TRACKS_PER_PAGE).get_page(number)


def artist_tracks_manage_list(*, artist: Artist) -> QuerySet[Track]:
    """Every track of the artist, published or not, in the artist page's order."""
    return artist.tracks.order_by("position", "title")


def track_position_next(*, artist: Artist) -> int:
    """The position that puts a new track last on the artist's page."""
    last = artist.tracks.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


def track_title_taken(*, track: Track, title: str) -> bool:
    """Another track of the artist has this title, in any case (as uploads check)."""
    others = Track.objects.filter(artist_id=track.artist_id).exclude(pk=track.pk)
    return others.filter(title__iexact=title).exists()
