"""Search: full-text on PostgreSQL from GIN indexes, a substring match elsewhere."""

import pytest
from django.db import connection
from django.test import Client

from mvsic import search
from mvsic.services import track_publish_set
from tests.conftest import make_artist, make_track

pytestmark = pytest.mark.django_db


def found(response) -> tuple[list[str], list[str]]:
    context = response.context
    return (
        [a.name for a in context["artists"].object_list],
        [t.title for t in context["tracks"].object_list],
    )


@pytest.fixture
def catalog():
    dreamers = make_artist("Dreaming Trees")
    dreamers.bio = "Slow guitar songs from the sea."
    dreamers.save()
    coast = make_artist("Coast Line")
    coast.bio = "Dreams of synthesizers, by the coast."
    coast.save()
    make_artist("Stone Age")
    make_track(dreamers, "Dream On")
    make_track(dreamers, "Live at the Coast")
    make_track(coast, "Night Drive")
    gone = make_track(coast, "Dream Hidden")
    track_publish_set(track=gone, published=False)
    return dreamers, coast


def test_words_match_names_bios_and_titles_with_stemming_and_names_ranked_first(catalog):
    artists, tracks = found(Client().get("/search", {"q": "dreams"}))
    # By its name before by a word of its bio; stemmed forms match (dreams, dreaming).
    assert artists == ["Dreaming Trees", "Coast Line"]
    assert tracks == ["Dream On"]  # the unpublished "Dream Hidden" is not found


def test_web_search_syntax_phrases_or_and_exclusion(catalog):
    client = Client()
    assert b"in quotes for a phrase" in client.get("/search", {"q": "x"}).content
    assert found(client.get("/search", {"q": '"coast line"'}))[0] == ["Coast Line"]
    assert found(client.get("/search", {"q": "dream -coast"}))[0] == ["Dreaming Trees"]
    assert found(client.get("/search", {"q": "stone or night"})) == (["Stone Age"], ["Night Drive"])


@pytest.mark.parametrize(
    "q", ['"unbalanced', "-", "&|!():*", "the", "a' OR 1=1; --", "ünïcödé ☃", "or or or"]
)
def test_odd_queries_are_answered_never_an_error(catalog, q):
    response = Client().get("/search", {"q": q})
    assert response.status_code == 200


def test_an_empty_query_asks_for_one_and_a_bad_one_says_why(catalog):
    empty = Client().get("/search")
    assert empty.status_code == 200
    assert b"Type a name, a title or a word of a bio" in empty.content
    assert Client().get("/search", {"q": "   "}).status_code == 200
    long = Client().get("/search", {"q": "dream " * 50})
    assert long.status_code == 400
    assert b"That is a long search: try a few words (at most 200 characters)." in long.content
    nul = Client().get("/search", {"q": "dream\x00"})
    assert nul.status_code == 400 and b"Null characters are not allowed" in nul.content


def test_results_come_a_page_at_a_time_and_keep_the_query(catalog):
    artist = make_artist("Echo")
    for i in range(search.TRACKS_PER_PAGE + 3):
        make_track(artist, f"Echo {i:02d}")
    first = Client().get("/search", {"q": "echo"})
    assert len(found(first)[1]) == search.TRACKS_PER_PAGE
    assert b'href="?q=echo&amp;tracks_page=2"' in first.content
    second = Client().get("/search", {"q": "echo", "tracks_page": "2"})
    assert len(found(second)[1]) == 3
    assert found(second)[0] == ["Echo"]
    for bad in ("0", "x", "99"):
        assert Client().get("/search", {"q": "echo", "tracks_page": bad}).status_code == 200


def test_the_header_links_to_search():
    assert b'action="/search"' in Client().get("/").content


def test_full_text_search_reads_the_gin_indexes(catalog):
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the table is tiny: ask for the index
        for queryset in (search._artists_search("dream"), search._tracks_search("dream")):
            sql, params = queryset.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert "artist_search" in plans[0], plans[0]
    assert "track_search" in plans[1], plans[1]


def test_without_postgresql_a_substring_match_stands_in(catalog, monkeypatch):
    monkeypatch.setattr(search, "full_text", lambda: False)
    artists, tracks = found(Client().get("/search", {"q": "DREAM"}))
    assert artists == ["Coast Line", "Dreaming Trees"]  # by name: no ranking without full text
    assert tracks == ["Dream On"]
    page = Client().get("/search", {"q": "dream"}).content
    assert b"in quotes for a phrase" not in page  # no web-search syntax to explain
