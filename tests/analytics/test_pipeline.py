"""End to end: HTTP -> RabbitMQ -> a real Celery worker -> PostgreSQL -> the stats API."""

import random
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from knox.models import AuthToken

from analytics.models import ArtistStats, FollowEvent
from tests.conftest import (
    BROWSER_UA,
    make_artist,
    make_event,
    make_ingest_key,
    make_track,
    make_user,
    wait_for,
    worker_running,
)

pytestmark = [pytest.mark.integration]


def test_events_over_http_are_counted_exactly_once(live_server, celery_worker_process):
    artist_user = make_user()
    artist = make_artist(members=[artist_user])
    hot, cold = make_track(artist), make_track(artist)
    _, token = AuthToken.objects.create(user=artist_user)

    now = timezone.now()

    def ago(minutes: int) -> str:
        return (now - timedelta(minutes=minutes)).isoformat()

    # An app's backend (ingest key) relays its fans' plays, a minute apart, from their addresses.
    plays = [make_event(hot, "play", f"fan-{i % 7}", ts=ago(i), ip=f"198.51.100.{i % 7}")
             for i in range(60)]  # fmt: skip
    plays += [make_event(cold, "play", "fan-1", ts=ago(i)) for i in range(5)]
    # Accepted, stored, not credited: too short, and a second play of the same listening.
    filtered = [make_event(hot, "play", "fan-8", seconds=3.0, ts=ago(i)) for i in range(3)]
    filtered += [make_event(cold, "play", "fan-1", ts=ago(0))]
    # fan-1 likes then unlikes; fan-2 and fan-3 like; fan-4 unlikes (never liked).
    likes = [
        make_event(hot, "like", "fan-1", ts=ago(30)),
        make_event(hot, "unlike", "fan-1", ts=ago(29)),
        make_event(hot, "like", "fan-2"),
        make_event(hot, "like", "fan-3"),
        make_event(hot, "unlike", "fan-4"),
    ]
    # fan-1 and fan-3 follow the artist; fan-2 follows, then unfollows.
    follows = [
        {**make_event(hot, "follow", fan, ts=ago(minutes)), "track": ..., "artist": artist.id}
        for fan, minutes in (("fan-1", 5), ("fan-2", 5), ("fan-3", 1))
    ]
    follows.append({**follows[1], "id": make_event(hot)["id"], "type": "unfollow", "ts": ago(2)})
    follows = [{k: v for k, v in f.items() if v is not ...} for f in follows]
    events = plays + likes + filtered + follows
    twice = events + events
    random.Random(7).shuffle(twice)

    url = f"{live_server.url}/api/v1/events/"
    client = {"Authorization": f"Ingest {make_ingest_key()}", "User-Agent": BROWSER_UA}
    for start in range(0, len(twice), 25):
        response = requests.post(url, json=twice[start : start + 25], headers=client, timeout=10)
        assert response.status_code == 202, response.text
        assert response.json()["rejected"] == []

    stats_url = f"{live_server.url}/api/v1/artists/{artist.slug}/stats/"
    headers = {"Authorization": f"Token {token}"}

    def counted():
        body = requests.get(stats_url, headers=headers, timeout=10).json()
        done = (body["plays"], body["likes"], sum(body["filtered"].values())) == (65, 2, 4)
        return body if done else None

    body = wait_for(counted, timeout=60, message="the worker did not count every event")
    wait_for(
        lambda: (
            ArtistStats.objects.filter(artist=artist, followers=2).exists()
            and FollowEvent.objects.count() == 4
        ),
        message="the worker did not count every follow",
    )
    assert body["listeners"] == 7
    # Credited + filtered = accepted: every accepted event is in exactly one of them.
    assert body["filtered"] == {"short": 3, "too_fast": 1}
    figures = {t["id"]: (t["plays"], t["likes"], t["listeners"]) for t in body["tracks"]}
    assert figures == {hot.id: (60, 2, 7), cold.id: (5, 0, 1)}
    # Duplicates arrived after the first copies; they still change nothing.
    track_body = requests.get(
        f"{live_server.url}/api/v1/tracks/{hot.id}/stats/", headers=headers, timeout=10
    ).json()
    assert (track_body["plays"], track_body["likes"], track_body["listeners"]) == (60, 2, 7)
    assert sum(h["plays"] for h in track_body["series"]) == 60


def test_follows_delivered_twice_to_two_workers_are_counted_exactly_once(
    live_server, transactional_db, broker_queues, tmp_path
):
    """Follows and unfollows of one artist by 40 fans over three days, interleaved with
    plays of its track, each event sent twice in shuffled order to two workers counting in
    small batches (one of them three batches at once): followers now and by day are what
    the latest event of each fan implies, and reconciliation finds nothing to fix."""
    from analytics.models import Rollup
    from analytics.services.follows import day_changes
    from analytics.services.reconciliation import counts_reconcile

    artist = make_artist()
    track = make_track(artist)
    now = timezone.now().replace(microsecond=0)
    rng = random.Random(16)
    events, latest, histories = [], {}, {}
    for fan in range(40):
        listener = f"fan-{fan}"
        moments = sorted(rng.sample(range(60, 3 * 24 * 60), rng.randint(1, 5)))
        history = []
        for minutes in moments:
            kind = rng.choice(["follow", "unfollow"])
            ts = now - timedelta(minutes=minutes)
            event = {
                **make_event(track, kind, listener, ts=ts.isoformat(), ip=f"198.51.100.{fan}"),
                "artist": artist.id,
            }
            del event["track"]
            events.append(event)
            history.append((ts, kind))
        history.sort()
        histories[listener] = [(ts.date(), kind == "follow") for ts, kind in history]
        latest[listener] = history[-1][1]
        played = (now - timedelta(minutes=1)).isoformat()
        events.append(make_event(track, "play", listener, ts=played, ip=f"198.51.100.{fan}"))
    twice = events + events
    rng.shuffle(twice)
    expected_daily = Counter()
    for history in histories.values():
        expected_daily.update(day_changes(history))
    expected = sum(1 for kind in latest.values() if kind == "follow")

    with (
        worker_running(
            tmp_path / "one.log", MVSIC_EVENT_BATCH_SIZE=7, MVSIC_COUNTING_THREADS=3
        ) as one,
        worker_running(tmp_path / "two.log", MVSIC_EVENT_BATCH_SIZE=13) as two,
    ):
        url = f"{live_server.url}/api/v1/events/"
        client = {"Authorization": f"Ingest {make_ingest_key()}", "User-Agent": BROWSER_UA}
        for start in range(0, len(twice), 20):
            response = requests.post(
                url, json=twice[start : start + 20], headers=client, timeout=10
            )
            assert response.status_code == 202 and response.json()["rejected"] == []
        wait_for(
            lambda: (
                FollowEvent.objects.count() == len(events) - 40
                and ArtistStats.objects.filter(artist=artist, plays=40).exists()
            ),
            timeout=60,
            message="the workers did not count every event",
        )
        logs = (one.log_path.read_text() + two.log_path.read_text()).lower()

    assert ArtistStats.objects.get(artist=artist).followers == expected
    daily = Counter(
        dict(
            Rollup.objects.filter(scope="a", key=artist.id, span="d", metric="followers")
            .exclude(n=0)
            .values_list("start", "n")
        )
    )
    assert daily == {day: n for day, n in expected_daily.items() if n}
    assert counts_reconcile().drift == 0
    assert "deadlock" not in logs and "traceback" not in logs
