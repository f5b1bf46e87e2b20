"""Every fan page costs the same number of queries with 3 or 30 of what it lists: no query
per artist, tag or track (pictures, tags and counts come with their rows)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mvsic.models import Tag
from mvsic.selectors import TRACKS_PER_PAGE
from tests.conftest import make_artist, make_track, make_user

pytestmark = pytest.mark.django_db


def grow(to: int, *, tags: list[Tag], host) -> None:
    """Artists named "Echo nn" with both tags and a picture name, and tracks of `host`."""
    from mvsic.models import Artist

    have = Artist.objects.filter(name__startswith="Echo ").count()
    for i in range(have, to):
        artist = make_artist(f"Echo {i:02d}")
        artist.bio = "Echoes in the hall."
        artist.picture = f"artists/echo-{i:02d}-0000.webp"
        artist.save()
        artist.tags.add(*tags)
        make_track(host, f"Echo song {i:02d}")


def queries(client: Client, url: str) -> int:
    client.get(url)  # a first visit links the login to its listener cookie: once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.fixture
def catalog():
    tags = [
        Tag.objects.create(slug="ambient", name="ambient"),
        Tag.objects.create(slug="dub", name="dub"),
    ]
    host = make_artist("Host")
    host.tags.add(*tags)
    return tags, host


@pytest.mark.parametrize(
    "url",
    ["/", "/artists/", "/search?q=echo", "/tags/ambient/", "/artists/host/", "TRACK"],
    ids=["home", "artists", "search", "tag", "artist", "track"],
)
def test_a_page_costs_the_same_queries_for_3_or_30_items(catalog, url, django_assert_num_queries):
    tags, host = catalog
    client = Client()
    grow(3, tags=tags, host=host)
    if url == "TRACK":
        url = f"/tracks/{host.tracks.first().id}/"
    few = queries(client, url)
    grow(30, tags=tags, host=host)
    assert host.tracks.count() == 30 <= TRACKS_PER_PAGE  # all on the one page measured
    with django_assert_num_queries(few):
        client.get(url)


def test_an_artist_page_costs_the_same_for_a_member(catalog, django_assert_num_queries):
    tags, host = catalog
    member = make_user("member")
    host.members.add(member)
    client = Client()
    client.force_login(member)
    grow(3, tags=tags, host=host)
    few = queries(client, "/artists/host/")
    grow(30, tags=tags, host=host)
    with django_assert_num_queries(few):
        response = client.get("/artists/host/")
    assert response.content.count(b"/order/") == 30  # the member's up and down for each


def test_the_artist_page_lists_its_tracks_a_page_at_a_time():
    artist = make_artist("Prolific")
    for i in range(TRACKS_PER_PAGE + 5):
        make_track(artist, f"Take {i:03d}")
    client = Client()
    first = client.get("/artists/prolific/")
    titles = [t.title for t in first.context["tracks"].object_list]
    assert len(titles) == TRACKS_PER_PAGE and titles[0] == "Take 000"
    assert b'href="?page=2"' in first.content
    last = client.get("/artists/prolific/?page=2")
    assert [t.title for t in last.context["tracks"].object_list][0] == f"Take {TRACKS_PER_PAGE:03d}"
    for bad in ("0", "-3", "abc", "9999"):
        assert client.get(f"/artists/prolific/?page={bad}").status_code == 200
