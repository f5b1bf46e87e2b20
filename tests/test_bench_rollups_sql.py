"""The bench's SQL rebuild of a bulk-loaded history gives the rows counting gives."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from analytics.models import ListenerDay, ReachCell, Rollup
from analytics.services.counting import events_count
from bench.rollups_sql import rollup_statements
from tests.conftest import make_artist, make_payload, make_track

pytestmark = pytest.mark.django_db


def rows():
    return (
        sorted(
            Rollup.objects.exclude(n=0).values_list(
                "scope", "key", "span", "start", "metric", "value", "n"
            )
        ),
        sorted(
            ReachCell.objects.exclude(n=0).values_list("scope", "key", "cell", "span", "start", "n")
        ),
        sorted(ListenerDay.objects.values_list("scope", "key", "listener", "day")),
    )


def test_the_sql_rebuild_equals_counting():
    artist = make_artist()
    tracks = [make_track(artist, duration=60) for _ in range(3)]
    rng = random.Random(5)
    start = datetime(2026, 1, 20, tzinfo=UTC)
    payloads = []
    for _ in range(400):
        ts = (start + timedelta(minutes=rng.randrange(60 * 24 * 50))).isoformat()
        kind = rng.choice(["play", "play", "play", "like", "unlike"])
        extra = {"seconds": rng.choice([40.0, 40.0, 2.0])} if kind == "play" else {}
        payloads.append(
            make_payload(rng.choice(tracks), kind, f"fan-{rng.randrange(20)}", ts=ts,
                         received_at=ts, ua=None, source="history", **extra)
        )  # fmt: skip
    for i in range(0, len(payloads), 50):
        events_count(payloads=payloads[i : i + 50])
    counted = rows()
    assert counted[1] and any(r[4] == "filtered" for r in counted[0])
    with connection.cursor() as cursor:
        for statement, params in rollup_statements():
            cursor.execute(statement, params)
    rebuilt = rows()
    for part, (was, now) in enumerate(zip(counted, rebuilt, strict=True)):
        assert (part, sorted(set(now) - set(was))[:5], sorted(set(was) - set(now))[:5]) == (
            part, [], [])  # fmt: skip
