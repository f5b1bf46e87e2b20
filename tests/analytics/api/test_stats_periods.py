"""The stats API's periods, comparison, breakdowns and CSV, as an artist's member sees them."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import ArtistStats, Rollup
from analytics.services.counting import events_count
from tests.conftest import make_artist, make_payload, make_track, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    member = make_user("member")
    artist = make_artist(members=[member])
    track = make_track(artist, title="=cmd|' /C calc'!A0", duration=200)
    browser = Client()
    browser.force_login(member)
    return artist, track, browser


def at(days_ago: float) -> str:
    return (timezone.now() - timedelta(days=days_ago)).isoformat()


def url(artist, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/artists/{artist.slug}/stats/?{query}"


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"period": "5y"}, "period"),
        ({"period": "custom", "from": "2026-13-01", "to": "2026-01-02"}, "from"),
        ({"period": "custom", "from": "2026-01-01"}, "to"),
        ({"period": "7d", "compare": "year"}, "compare"),
        ({"compare": "sideways"}, "compare"),
        ({"format": "csv", "table": "everything"}, "table"),
    ],
)
def test_unknown_values_are_a_400_naming_the_parameter(scene, query, param):
    artist, _, browser = scene
    response = browser.get(url(artist, **query))
    assert response.status_code == 400
    text = response.content.decode()
    assert param in (response.json() if "json" in response["Content-Type"] else text)


def test_periods_compare_with_the_previous_one(scene):
    artist, track, browser = scene
    events_count(
        payloads=[make_payload(track, "play", f"now-{i}", ts=at(1)) for i in range(3)]
        + [make_payload(track, "play", f"before-{i}", ts=at(10)) for i in range(2)]
        + [make_payload(track, "play", "now-0", ts=at(10.5))]
    )
    body = browser.get(url(artist, period="7d")).json()
    assert (body["period"]["plays"], body["period"]["listeners"]) == (3, 3)
    assert (body["previous"]["plays"], body["previous"]["listeners"]) == (3, 3)
    assert (body["period"]["new_listeners"], body["period"]["returning_listeners"]) == (2, 1)
    assert body["timezone"] == "UTC" and body["granularity"] == "hour"
    month = browser.get(url(artist, period="28d", compare="none")).json()
    assert (month["period"]["plays"], month["period"]["listeners"], month["previous"]) == (
        6,
        5,
        None,
    )
    assert month["granularity"] == "day" and len(month["series"]) == 28
    assert sum(p["plays"] for p in month["series"]) == 6
    assert month["tracks"][0]["period_plays"] == 6


def test_all_time_starts_at_the_first_month_with_data_and_only_it_looks_for_it(scene):
    artist, _, browser = scene
    first = (timezone.now() - timedelta(days=100)).date().replace(day=1)
    Rollup.objects.create(scope="a", key=artist.id, span="m", start=first, metric="plays", n=2)
    earlier = first.replace(year=first.year - 3)  # another artist's: not this one's start
    Rollup.objects.create(scope="a", key=make_artist().id, span="m", start=earlier, metric="plays")
    body = browser.get(url(artist, period="all", compare="none")).json()
    assert (body["period"]["from"], body["period"]["plays"]) == (first.isoformat(), 2)
    with CaptureQueriesContext(connection) as queries:
        week = browser.get(url(artist, period="7d")).json()["period"]["from"]
    assert week == (timezone.localdate() - timedelta(days=6)).isoformat()
    first_month = 'ORDER BY "analytics_rollup"."start" ASC'
    assert not [q["sql"] for q in queries.captured_queries if first_month in q["sql"]]


def test_breakdowns_fold_values_with_fewer_than_five_listeners(scene):
    artist, track, browser = scene
    payloads = [make_payload(track, "play", f"de-{i}", ts=at(1), country="DE") for i in range(6)]
    payloads += [make_payload(track, "play", f"nz-{i}", ts=at(1), country="NZ") for i in range(4)]
    events_count(payloads=payloads)
    countries = browser.get(url(artist)).json()["breakdowns"]["countries"]
    assert countries == [{"value": "DE", "plays": 6}, {"value": "other", "plays": 4}]


def test_the_zone_moves_days(scene):
    artist, track, browser = scene
    ArtistStats.objects.update_or_create(artist=artist, defaults={"zone": "Asia/Kathmandu"})
    today = timezone.now().astimezone(UTC).date()
    body = browser.get(
        url(
            artist,
            period="custom",
            **{"from": today - timedelta(days=2), "to": today - timedelta(days=1)},
        )
    ).json()
    assert body["timezone"] == "Asia/Kathmandu"
    # Local midnight in Nepal is 18:15 UTC the day before.
    first = datetime.fromisoformat(body["series"][0]["hour"])
    assert (first.hour, first.minute) == (18, 15)


def test_tables_download_as_csv_with_zone_and_period_in_the_header(scene):
    artist, track, browser = scene
    events_count(payloads=[make_payload(track, "play", "fan", ts=at(1))])
    response = browser.get(url(artist, period="28d", format="csv", table="tracks"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0].startswith("title (UTC, 28d: ")
    assert rows[1][0] == "'=cmd|' /C calc'!A0"  # a formula is text in a spreadsheet
    assert rows[1][2] == "1"


def test_the_events_download_has_credited_and_filtered_events_without_addresses(scene):
    artist, track, browser = scene
    events_count(
        payloads=[
            make_payload(track, "play", "fan", ts=at(1), address="a" * 16),
            make_payload(track, "play", "short", ts=at(1), seconds=2.0),
        ]
    )
    response = browser.get(f"/api/v1/artists/{artist.slug}/events/?period=7d")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3
    assert sorted(r[-1] for r in rows[1:]) == ["credited", "short"]
    assert "a" * 16 not in text and "fan" not in text


def test_strangers_get_no_csv(scene):
    artist, _, _ = scene
    stranger = Client()
    stranger.force_login(make_user("stranger"))
    assert stranger.get(url(artist, format="csv", table="series")).status_code == 403
    assert stranger.get(f"/api/v1/artists/{artist.slug}/events/").status_code == 403


def follow_payload(artist, kind: str, listener: str, ts: str, **extra) -> dict:
    payload = make_payload(None, kind, listener, ts=ts, **extra)
    payload.update({"track": None, "artist": artist.id})
    return payload


def test_the_events_download_has_follows_and_unfollows_credited_and_filtered(scene, settings):
    settings.MVSIC_MAX_FOLLOWS_PER_ADDRESS_HOUR = 1
    artist, track, browser = scene
    events_count(
        payloads=[
            make_payload(track, "play", "player-7", ts=at(2)),
            follow_payload(artist, "follow", "fan-1", at(3), address="b" * 16),
            follow_payload(artist, "follow", "fan-2", at(3), address="b" * 16),
            follow_payload(artist, "unfollow", "fan-1", at(1)),
            follow_payload(artist, "follow", "long-ago", at(40)),  # before the period
            follow_payload(make_artist(), "follow", "elsewhere", at(1)),  # another artist
        ]
    )
    response = browser.get(f"/api/v1/artists/{artist.slug}/events/?period=7d")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][1:] == ["id", "type", "track", "title", "seconds", "source", "referrer",
                           "country", "status"]  # fmt: skip
    # Oldest first, the play among the follows; a follow has no track, title or seconds.
    assert [(r[2], r[-1]) for r in rows[1:]] == [
        ("follow", "credited"), ("follow", "too_many_follows"), ("play", "credited"),
        ("unfollow", "credited"),
    ]  # fmt: skip
    assert [r[3:6] for r in rows[1:] if r[2] != "play"] == [["", "", ""]] * 3
    assert "b" * 16 not in text and "fan-" not in text and "player-7" not in text


def test_the_events_download_of_a_custom_period_keeps_its_follows_only(scene):
    artist, _, browser = scene
    events_count(
        payloads=[
            follow_payload(artist, "follow", "fan-1", at(10)),
            follow_payload(artist, "follow", "fan-2", at(1)),
        ]
    )
    day = (timezone.now() - timedelta(days=10)).date()
    response = browser.get(
        f"/api/v1/artists/{artist.slug}/events/?period=custom&from={day}&to={day}"
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 2 and rows[1][2] == "follow"


def test_followers_now_over_the_period_and_by_day(scene):
    artist, _, browser = scene
    events_count(
        payloads=[
            follow_payload(artist, "follow", "old-fan", at(20)),
            follow_payload(artist, "follow", "fan-1", at(3)),
            follow_payload(artist, "follow", "fan-2", at(2)),
            follow_payload(artist, "unfollow", "old-fan", at(1)),
            follow_payload(artist, "follow", "fan-3", at(0.01)),
        ]
    )

    body = browser.get(url(artist, period="7d")).json()

    assert body["followers"] == 3
    assert (body["period"]["followers"], body["period"]["followers_gained"]) == (3, 2)
    assert (body["previous"]["followers"], body["previous"]["followers_gained"]) == (1, 0)
    by_day = browser.get(url(artist, period="28d")).json()["series"]
    assert [p["followers"] for p in by_day][-4:] == [2, 3, 2, 3]
    assert by_day[0]["followers"] == 0 and by_day[10]["followers"] == 1

    csv_body = browser.get(url(artist, period="28d", format="csv", table="series"))
    rows = list(csv.reader(io.StringIO(b"".join(csv_body.streaming_content).decode())))
    assert rows[0][0].startswith("day (UTC, 28d: ")
    assert rows[0][-1] == "followers" and rows[-1][-1] == "3"


def test_the_dashboard_shows_followers(scene):
    artist, _, browser = scene
    events_count(payloads=[follow_payload(artist, "follow", "fan-1", at(1))])

    page = browser.get(f"/dashboard/{artist.slug}/").content.decode()

    assert 'data-figure="followers" data-value="1"' in page
    assert 'data-figure="period_followers_gained" data-value="1"' in page


def test_filtered_follows_are_in_the_period_and_all_time_by_reason(scene, settings):
    settings.MVSIC_MAX_FOLLOWS_PER_ADDRESS_HOUR = 1
    artist, track, browser = scene
    crawler = "Googlebot/2.1 (+http://www.google.com/bot.html)"
    events_count(
        payloads=[
            make_payload(track, "play", "short", ts=at(1), seconds=2.0),
            follow_payload(artist, "follow", "fan-1", at(1), address="c" * 16),
            follow_payload(artist, "follow", "fan-2", at(1), address="c" * 16),
            follow_payload(artist, "unfollow", "bot", at(1), ua=crawler),
            follow_payload(artist, "follow", "old-bot", at(20), ua=crawler),
        ]
    )

    body = browser.get(url(artist, period="7d")).json()

    assert body["period"]["filtered"] == {"short": 1}  # the tracks' events, as before
    assert body["period"]["filtered_follows"] == {"bot": 1, "too_many_follows": 1}
    assert body["filtered_follows"] == {"bot": 2, "too_many_follows": 1}
    assert body["previous"]["filtered_follows"] == {}
    assert body["period"]["followers"] == 1
