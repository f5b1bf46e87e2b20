"""analytics.closed_days: what the stats reads keep of closed days, and when it goes stale."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from analytics import selectors
from analytics.closed_days import (
    closed_read,
    closed_rows_keys,
    greatest,
    last_closed_day,
)
from analytics.models import ArtistStats, Rollup
from analytics.services.counting import events_count
from analytics.services.rebuild import artist_figures_rebuild
from tests.conftest import make_artist, make_payload, make_track

DAY = timedelta(days=1)


def test_a_day_is_closed_once_every_zone_is_past_it():
    # 00:05 UTC on 8 March: Kiritimati (+14) is in 8 March, Baker Island (-12) in 7 March.
    assert last_closed_day(datetime(2026, 3, 8, 0, 5, tzinfo=UTC)) == date(2026, 3, 6)
    assert last_closed_day(datetime(2026, 3, 8, 23, 55, tzinfo=UTC)) == date(2026, 3, 6)


def test_the_closed_days_are_read_once_and_the_live_ones_every_time():
    calls = []

    def read(first, last):
        calls.append((first, last))
        return {"plays": 1}

    cut = last_closed_day()
    first, last = cut - 9 * DAY, cut + 2 * DAY
    assert closed_read(("sums", 1), first, last, read) == {"plays": 2}
    assert closed_read(("sums", 1), first, last, read) == {"plays": 2}
    assert calls == [(first, cut), (cut + DAY, last), (cut + DAY, last)]
    # Closed days only: the kept answer alone; another stamp is read again.
    assert closed_read(("sums", 1), first, cut, read) == {"plays": 1}
    assert closed_read(("sums", 2), first, cut, read) == {"plays": 1}
    assert calls[3:] == [(first, cut)]
    # Live days only: nothing kept.
    assert closed_read(("sums", 1), cut + DAY, last, read) == {"plays": 1}
    assert calls[4:] == [(cut + DAY, last)]


def test_maxima_merge_by_the_greatest():
    assert greatest({"a": 3, "b": 1}, {"a": 2, "b": 5, "c": 1}) == {"a": 3, "b": 5, "c": 1}


def test_rows_of_closed_days_and_months_name_their_artists_and_tracks():
    cut = last_closed_day()
    live_month = (cut + DAY).replace(day=1)
    closed_month = (live_month - DAY).replace(day=1)
    rows = [
        ("a", 1, "d", cut, "plays", ""),
        ("a", 2, "d", cut + DAY, "plays", ""),
        ("t", 3, "m", closed_month, "plays", ""),
        ("t", 4, "m", live_month, "plays", ""),
        ("t", 5, "d", cut + 2 * DAY, "reach", 7),
    ]
    assert closed_rows_keys(rows) == ({1}, {3})


# --- with counting and the stats reads, on PostgreSQL -------------------------------------------


def _count(track, when: datetime, listener: str) -> None:
    at = when.isoformat()
    events_count(payloads=[make_payload(track, listener=listener, ts=at, received_at=at)])


def _version(artist) -> int:
    return ArtistStats.objects.get(artist=artist).history_version


@pytest.mark.django_db
def test_a_late_play_on_a_closed_day_shows_at_once_and_live_plays_keep_what_is_kept():
    artist = make_artist()
    track = make_track(artist=artist)
    now = timezone.now()
    old = now - 10 * DAY
    _count(track, old, "fan-1")
    params = {"period": "28d"}
    first = selectors.artist_stats_get(artist=artist, params=params)
    assert first["period"]["plays"] == 1
    version = _version(artist)

    _count(track, old, "fan-2")  # a late event: its day is closed
    assert _version(artist) == version + 1
    late = selectors.artist_stats_get(artist=artist, params=params)
    assert late["period"]["plays"] == 2
    assert late["period"]["listeners"] == 2
    assert {p["day"]: p["plays"] for p in late["series"]}[old.date().isoformat()] == 2
    assert selectors.track_stats_get(track=track, params=params)["period"]["plays"] == 2

    _count(track, now, "fan-3")  # today: live, read on every request
    assert _version(artist) == version + 1
    live = selectors.artist_stats_get(artist=artist, params=params)
    assert (live["period"]["plays"], live["period"]["listeners"]) == (3, 3)
    assert live["tracks"][0]["period_plays"] == 3


@pytest.mark.django_db
def test_a_repaired_artist_reads_its_closed_days_again():
    artist = make_artist()
    track = make_track(artist=artist)
    old = timezone.now() - 10 * DAY
    _count(track, old, "fan-1")
    # Drift on a closed day, as reconciliation would find it; the read keeps what it saw.
    Rollup.objects.filter(scope="a", key=artist.id, metric="plays").update(n=5)
    params = {"period": "28d"}
    assert selectors.artist_stats_get(artist=artist, params=params)["period"]["plays"] == 5
    version = _version(artist)

    with transaction.atomic():
        ArtistStats.objects.select_for_update().get(artist=artist)
        artist_figures_rebuild(artist=artist)
    assert _version(artist) == version + 1
    assert selectors.artist_stats_get(artist=artist, params=params)["period"]["plays"] == 1
