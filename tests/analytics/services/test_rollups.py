"""Counting into the artist's local time: rollups, reach and floors, equal to a rebuild."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from analytics.models import (
    ArtistStats,
    BreakdownListener,
    ListenerDay,
    ReachCell,
    Rollup,
    TrackHour,
)
from analytics.placed import MIX, mix_split
from analytics.services.counting import events_count
from analytics.services.rebuild import artist_figures_rebuild, artist_zone_rebuild
from tests.conftest import make_artist, make_payload, make_track

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def zoned_artist(zone: str):
    artist = make_artist()
    artist.timezone = zone
    artist.save()
    ArtistStats.objects.create(artist=artist, zone=zone)
    return artist


def play(track, listener, ts: datetime, **extra):
    return make_payload(
        track, "play", listener, ts=ts.isoformat(), received_at=ts.isoformat(), **extra
    )


def figures(scope, key, span="d"):
    return {
        (r.start, r.metric, r.value): r.n
        for r in Rollup.objects.filter(scope=scope, key=key, span=span)
    }


def snapshot(artist):
    tracks = list(artist.tracks.values_list("id", flat=True))
    return (
        sorted(
            Rollup.objects.filter(key__in=[artist.id, *tracks]).values_list(
                "scope", "key", "span", "start", "metric", "value", "n"
            )
        ),
        # A reach cell whose changes cancelled out keeps its row, at 0.
        sorted(
            ReachCell.objects.filter(key__in=[artist.id, *tracks])
            .exclude(n=0)
            .values_list("scope", "key", "cell", "span", "start", "n")
        ),
        sorted(ListenerDay.objects.values_list("scope", "key", "listener", "day")),
        sorted(
            TrackHour.objects.filter(track_id__in=tracks).values_list(
                "track_id", "hour", "plays", "likes", "unlikes"
            )
        ),
    )


def test_days_and_hours_are_the_artists_own_in_a_half_hour_zone():
    track = make_track(zoned_artist("Asia/Kolkata"))
    before_midnight = datetime(2026, 3, 1, 18, 29, tzinfo=UTC)  # 23:59 in India
    after_midnight = datetime(2026, 3, 1, 18, 31, tzinfo=UTC)  # 00:01 the next day
    events_count(payloads=[play(track, "a", before_midnight), play(track, "b", after_midnight)])
    days = figures("t", track.id)
    assert days[(date(2026, 3, 1), "plays", "")] == 1
    assert days[(date(2026, 3, 2), "plays", "")] == 1
    hours = set(TrackHour.objects.filter(track=track).values_list("hour", flat=True))
    assert hours == {
        datetime(2026, 3, 1, 17, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 18, 30, tzinfo=UTC),
    }
    assert figures("a", track.artist_id, "m")[(date(2026, 3, 1), "plays", "")] == 2


def by_dimension(rows: dict, day: date) -> dict:
    """Plays by (dimension, value) from a day's "mix" rows."""
    out: dict = {}
    for (start, metric, value), n in rows.items():
        if start == day and metric == MIX:
            for dimension, one in mix_split(value).items():
                out[(dimension, one)] = out.get((dimension, one), 0) + n
    return out


def test_breakdowns_count_credited_plays_and_floor_at_five_listeners():
    track = make_track(zoned_artist("UTC"), duration=200)
    t = datetime(2026, 3, 1, 12, tzinfo=UTC)
    payloads = [
        play(track, f"de-{i}", t, country="DE", ua=CHROME, source="track-page") for i in range(7)
    ]
    payloads += [
        play(track, f"nz-{i}", t, country="NZ", ua=IPHONE, referrer="blog.example.com")
        for i in range(2)
    ]
    payloads.append(
        make_payload(track, "play", "short", ts=t.isoformat(), seconds=1.0, country="FR")
    )
    events_count(payloads=payloads)
    day = figures("t", track.id)
    plays = by_dimension(day, t.date())
    assert plays[("country", "DE")] == 7
    assert plays[("country", "NZ")] == 2
    assert ("country", "FR") not in plays  # filtered: not in the breakdowns
    assert day[(t.date(), "filtered", "short")] == 1
    assert day[(t.date(), "~country", "DE")] == 5  # floors stop at five
    assert day[(t.date(), "~country", "NZ")] == 2
    assert plays[("device", "mobile")] == 2
    assert plays[("source", "blog.example.com")] == 2
    assert plays[("source", "track")] == 7
    assert BreakdownListener.objects.filter(dimension="country", value="NZ").count() == 2


def test_summaries_count_completion_and_retention():
    track = make_track(zoned_artist("UTC"), duration=100)
    t = datetime(2026, 3, 1, 12, tzinfo=UTC).isoformat()
    summaries = [
        make_payload(track, "heard", "a", ts=t, seconds=None, ranges=[[0, 100]]),
        make_payload(track, "heard", "b", ts=t, seconds=None, ranges=[[0, 30], [50, 60]]),
        make_payload(track, "heard", "c", ts=t, seconds=None, ranges=[[0, 4]]),
    ]
    events_count(payloads=summaries)
    day = figures("t", track.id)
    d = date(2026, 3, 1)
    assert (
        day[(d, "heard", "")],
        day[(d, "complete", "")],
        day[(d, "partial", "")],
        day[(d, "skip", "")],
    ) == (3, 1, 1, 1)
    assert day[(d, "ret", "00")] == 3  # c heard 4 s of the first 5 s part: over half
    assert day[(d, "ret", "10")] == 2  # 50-55 s: a and b
    assert day[(d, "ret", "19")] == 1


def test_incremental_counting_equals_a_rebuild_from_the_events():
    artist = zoned_artist("America/New_York")
    tracks = [make_track(artist, duration=60) for _ in range(2)]
    rng = random.Random(7)
    start = datetime(2026, 3, 5, tzinfo=UTC)  # spans the DST change of 2026-03-08
    payloads = []
    for _ in range(300):
        ts = start + timedelta(minutes=rng.randrange(0, 10 * 24 * 60))
        kind = rng.choice(["play", "play", "play", "like", "unlike", "heard"])
        extra = {"country": rng.choice(["DE", "US", ""]), "ua": rng.choice([CHROME, IPHONE])}
        if kind == "heard":
            extra.update(seconds=None, ranges=[[0, rng.randrange(1, 60)]])
        payloads.append(
            make_payload(
                rng.choice(tracks),
                kind,
                f"fan-{rng.randrange(12)}",
                ts=ts.isoformat(),
                received_at=ts.isoformat(),
                **extra,
            )
        )
    rng.shuffle(payloads)  # late and early events mixed in every batch
    for i in range(0, len(payloads), 37):
        events_count(payloads=payloads[i : i + 37])
    counted = snapshot(artist)
    assert counted[0] and counted[1]
    artist_figures_rebuild(artist=artist)
    rebuilt = snapshot(artist)
    for part, (was, now) in enumerate(zip(counted, rebuilt, strict=True)):
        assert (part, sorted(set(now) - set(was))[:5], sorted(set(was) - set(now))[:5]) == (
            part,
            [],
            [],
        )


def test_a_zone_change_rebuilds_the_figures_in_the_new_zone():
    artist = zoned_artist("UTC")
    track = make_track(artist)
    events_count(payloads=[play(track, "a", datetime(2026, 3, 1, 23, 30, tzinfo=UTC))])
    assert (date(2026, 3, 1), "plays", "") in figures("t", track.id)
    artist.timezone = "Pacific/Chatham"  # +13:45 in March
    artist.save()
    assert artist_zone_rebuild(artist_id=artist.id) is True
    assert ArtistStats.objects.get(artist=artist).zone == "Pacific/Chatham"
    assert set(figures("t", track.id)) >= {(date(2026, 3, 2), "plays", "")}
    assert (date(2026, 3, 1), "plays", "") not in figures("t", track.id)
    assert artist_zone_rebuild(artist_id=artist.id) is False
    events_count(
        payloads=[play(track, "b", datetime(2026, 3, 1, 9, 59, tzinfo=UTC))]
    )  # 23:44 local
    assert figures("t", track.id)[(date(2026, 3, 1), "plays", "")] == 1
