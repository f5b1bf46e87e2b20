"""The server-rendered dashboard: who may see which artist."""

import re
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from analytics.services.counting import events_count
from tests.conftest import make_artist, make_overseer, make_payload, make_track, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    member, stranger, staff = make_user(), make_user(), make_overseer()
    artist = make_artist("The Members", members=[member])
    other = make_artist("The Strangers", members=[stranger])
    track = make_track(artist, title="Opening Song")
    events_count(payloads=[make_payload(track, "play", "fan-1")])
    return {
        "member": member,
        "stranger": stranger,
        "staff": staff,
        "artist": artist,
        "other": other,
    }


def logged_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_the_login_page(scene):
    url = f"/dashboard/{scene['artist'].slug}/"
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"
    index = Client().get("/dashboard/")
    assert index.status_code == 302
    assert index["Location"].startswith("/accounts/login/")


def test_another_artists_member_is_forbidden(scene):
    response = logged_in(scene["stranger"]).get(f"/dashboard/{scene['artist'].slug}/")
    assert response.status_code == 403
    assert b"Opening Song" not in response.content


@pytest.mark.parametrize("who", ["member", "staff"])
def test_members_and_staff_see_the_dashboard(scene, who):
    response = logged_in(scene[who]).get(f"/dashboard/{scene['artist'].slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "The Members" in html
    assert "Opening Song" in html


@pytest.mark.parametrize("who", ["member", "staff"])
def test_an_unknown_artist_is_a_404(scene, who):
    assert logged_in(scene[who]).get("/dashboard/no-such-artist/").status_code == 404


def test_a_member_of_one_artist_goes_straight_to_its_dashboard(scene):
    response = logged_in(scene["member"]).get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/{scene['artist'].slug}/"


def test_staff_get_the_list_of_artists(scene):
    response = logged_in(scene["staff"]).get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "The Members" in html and "The Strangers" in html


def test_a_user_of_no_artist_goes_to_their_fans_page(scene):
    response = logged_in(make_user()).get("/dashboard/", follow=True)
    assert response.redirect_chain == [("/me/", 302)]
    assert "The Members" not in response.content.decode()


def test_dashboard_queries_do_not_grow_with_the_number_of_tracks(scene):
    client = logged_in(scene["member"])
    url = f"/dashboard/{scene['artist'].slug}/"

    def queries() -> int:
        cache.clear()  # every read of closed days too (analytics.closed_days)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    queries()  # the first visit also hands out the listener cookie and links it to the login
    one_track = queries()
    for i in range(10):
        track = make_track(scene["artist"], title=f"Song {i}")
        events_count(payloads=[make_payload(track, "play", f"fan-{i}")])
    assert queries() == one_track


# --- periods ----------------------------------------------------------------------------------
def test_the_dashboard_shows_the_picked_period_and_csv_links_keep_it(scene):
    slug = scene["artist"].slug
    response = logged_in(scene["member"]).get(f"/dashboard/{slug}/?period=28d&compare=year")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form class="period-picker" method="get"' in html
    assert '<option value="28d" selected>' in html
    assert '<option value="7d" selected>' not in html
    assert '<option value="year" selected>' in html
    assert "Last 28 days" in html
    for table in ("series", "tracks", "retention", "sources", "countries", "devices"):
        link = f"/api/v1/artists/{slug}/stats/?period=28d&amp;compare=year&amp;format=csv"
        assert f'href="{link}&amp;table={table}"' in html
    assert f'href="/api/v1/artists/{slug}/events/?period=28d"' in html
    assert 'data-query="period=28d&amp;compare=year"' in html


def test_the_dashboard_defaults_to_seven_days_compared_with_the_previous_ones(scene):
    response = logged_in(scene["member"]).get(f"/dashboard/{scene['artist'].slug}/")
    html = response.content.decode()
    assert '<option value="7d" selected>' in html
    assert '<option value="previous" selected>' in html
    assert 'data-query=""' in html


def test_dates_only_count_for_a_custom_period(scene):
    client = logged_in(scene["member"])
    url = f"/dashboard/{scene['artist'].slug}/"
    response = client.get(url, {"period": "7d", "from": "2020-01-01", "to": "2020-01-31"})
    assert response.status_code == 200  # a form sent without script keeps its dates
    custom = client.get(url, {"period": "custom", "from": "2020-01-01", "to": "2020-01-31"})
    assert custom.status_code == 200
    html = custom.content.decode()
    assert '<option value="custom" selected>' in html
    assert 'value="2020-01-01"' in html
    assert "period=custom&amp;from=2020-01-01&amp;to=2020-01-31&amp;format=csv" in html


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"period": "fortnight"}, "period"),
        ({"period": "7d", "compare": "year"}, "compare"),
        ({"period": "custom", "to": "2020-01-01"}, "from"),
        ({"period": "custom", "from": "2020-02-01", "to": "2020-01-01"}, "from"),
    ],
)
def test_a_bad_period_is_a_400_that_names_the_parameter(scene, query, param):
    response = logged_in(scene["member"]).get(f"/dashboard/{scene['artist'].slug}/", query)
    assert response.status_code == 400
    html = response.content.decode()
    assert f"The <strong>{param}</strong> parameter is not valid" in html
    assert 'role="alert"' in html
    assert '<option value="7d" selected>' in html  # the default period is shown instead
    assert "Opening Song" in html
    assert 'data-query=""' in html


def test_the_csv_links_download_for_a_member(scene):
    client = logged_in(scene["member"])
    html = client.get(f"/dashboard/{scene['artist'].slug}/?period=28d&compare=year")
    links = [unescape(h) for h in re.findall(r'href="([^"]*/api/v1/[^"]*)"', html.content.decode())]
    assert len(links) == 9  # series, tracks, retention, the 5 breakdowns and the events
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        assert response["Content-Type"].startswith("text/csv"), link
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body, link


def test_without_a_comparison_there_is_no_compared_period(scene):
    url = f"/dashboard/{scene['artist'].slug}/?period=24h&compare=none"
    response = logged_in(scene["member"]).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="none" selected>' in html
    assert "No comparison" in html
    assert "Compared period" not in html


def follow(artist, listener: str, **extra) -> dict:
    payload = make_payload(None, "follow", listener, **extra)
    payload.update({"track": None, "artist": artist.id})
    return payload


def test_filtered_follows_are_on_the_filtered_page_and_in_the_dashboards_total(scene):
    artist = scene["artist"]
    crawler = "Googlebot/2.1 (+http://www.google.com/bot.html)"
    events_count(
        payloads=[
            follow(artist, "fan-2"),
            follow(artist, "crawler-1", ua=crawler),
            follow(artist, "crawler-2", ua=crawler),
            follow(scene["other"], "crawler-3", ua=crawler),  # another artist's
        ]
    )
    member = logged_in(scene["member"])

    page = member.get(f"/dashboard/{artist.slug}/filtered/").content.decode()

    table = re.search(r"<table[^>]*data-filtered-follows.*?</table>", page, re.S).group(0)
    cells = dict(re.findall(r'data-(?:reason|col)="(\w+)">(\d+)<', table))
    assert cells == {"blocked": "0", "bot": "2", "own_play": "0", "too_many_follows": "0",
                     "total": "2"}  # fmt: skip
    assert 'id="too_many_follows"' in page
    dashboard = member.get(f"/dashboard/{artist.slug}/").content.decode()
    assert re.search(r"data-filtered-total>2 filtered<", dashboard)
