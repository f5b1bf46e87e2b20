"""Search over artists (name, bio) and visible tracks (title).

PostgreSQL: full-text search with the web-search syntax ("dream pop" -live, a OR b), ranked
by SearchRank, answered from the GIN indexes built on the same expressions (mvsic/models.py).
SQLite (the zero-setup development database) has neither: a case-insensitive substring match
by name stands in for it.
"""

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import F, Q, QuerySet

from mvsic.models import ARTIST_SEARCH_VECTOR, SEARCH_CONFIG, TRACK_SEARCH_VECTOR, Artist, Track

MAX_QUERY_LENGTH = 200
ARTISTS_PER_PAGE = 12
TRACKS_PER_PAGE = 20


def artists_search_page_get(*, query: str, number) -> Page:
    """One page of the artists matching `query`, best first; bad page numbers give the
    first or last page."""
    return Paginator(_artists_search(query), ARTISTS_PER_PAGE).get_page(number)


def tracks_search_page_get(*, query: str, number) -> Page:
    """One page of the visible tracks whose title matches `query`, best first."""
    return Paginator(_tracks_search(query), TRACKS_PER_PAGE).get_page(number)


def full_text() -> bool:
    return connection.vendor == "postgresql"


def _artists_search(query: str) -> QuerySet[Artist]:
    artists = Artist.objects.prefetch_related("tags")
    if not full_text():
        matches = Q(name__icontains=query) | Q(bio__icontains=query)
        return artists.filter(matches).order_by("name", "id")
    terms = _terms(query)
    return (
        artists.alias(document=ARTIST_SEARCH_VECTOR)
        .filter(document=terms)
        .annotate(rank=SearchRank(F("document"), terms))
        .order_by("-rank", "name", "id")
    )


def _tracks_search(query: str) -> QuerySet[Track]:
    tracks = Track.objects.visible().select_related("artist")
    if not full_text():
        return tracks.filter(title__icontains=query).order_by("title", "id")
    terms = _terms(query)
    return (
        tracks.alias(document=TRACK_SEARCH_VECTOR)
        .filter(document=terms)
        .annotate(rank=SearchRank(F("document"), terms))
        .order_by("-rank", "title", "id")
    )


def _terms(query: str) -> SearchQuery:
    return SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
