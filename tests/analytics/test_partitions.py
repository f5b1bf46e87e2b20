"""analytics/partitions.py and `manage.py events_partitions` on PostgreSQL: events go to the
partition of their month, created ahead or on demand; old partitions move to a tablespace and
are still counted; the migration keeps stored events and ids both ways."""

import os
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from analytics.models import Event, EventKey, TrackStats
from analytics.partitions import month_add, month_of, partition_name, partitions_ahead
from analytics.services.counting import events_count
from analytics.services.reconciliation import counts_reconcile
from tests.conftest import ROOT, database_url, make_payload, make_track

pytestmark = pytest.mark.django_db


def partition_of(event_id) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM analytics_event WHERE id = %s", [event_id]
        )
        return cursor.fetchone()[0]


def test_events_go_to_the_partition_of_their_month_made_on_demand():
    track = make_track()
    now = datetime.now(UTC)
    moments = [now - timedelta(days=400), now - timedelta(days=40), now]
    payloads = [
        make_payload(track, "play", f"fan-{i}", ts=m.isoformat()) for i, m in enumerate(moments)
    ]
    assert events_count(payloads=payloads) == 3
    for payload, moment in zip(payloads, moments, strict=True):
        assert partition_of(payload["id"]) == partition_name(month_of(moment))
    assert events_count(payloads=payloads) == 0  # EventKey: each counted once
    assert Event.objects.count() == EventKey.objects.count() == 3
    assert TrackStats.objects.get(track=track).plays == 3


def test_partitions_are_made_ahead_once():
    now = datetime.now(UTC)
    partitions_ahead(now=now)
    assert partitions_ahead(now=now) == []
    out = StringIO()
    call_command("events_partitions", stdout=out)
    for n in range(3):
        assert partition_name(month_add(month_of(now), n)) in out.getvalue()


@pytest.mark.parametrize(
    "options, message",
    [
        ({"move_before": "2026-13"}, "--move-before and --tablespace go together."),
        ({"move_before": "last year", "tablespace": "x"}, "must be a month as YYYY-MM"),
        (
            {"move_before": "2026-01", "tablespace": "nowhere"},
            "tablespace 'nowhere' does not exist",
        ),
    ],
)
def test_bad_options_are_one_readable_error(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("events_partitions", **options)


@pytest.mark.django_db(transaction=True)
def test_old_partitions_move_to_a_tablespace_and_are_still_counted():
    track = make_track()
    old = datetime.now(UTC) - timedelta(days=100)
    events_count(
        payloads=[make_payload(track, ts=old.isoformat()), make_payload(track, "play", "fan-2")]
    )
    directory = Path(tempfile.mkdtemp(prefix="mvsic-tablespace-"))
    shutil_chown(directory)
    space = f"mvsic_test_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLESPACE {space} LOCATION '{directory}'")
    try:
        out = StringIO()
        this_month = month_of(datetime.now(UTC))
        call_command(
            "events_partitions", move_before=f"{this_month:%Y-%m}", tablespace=space, stdout=out
        )
        assert partition_name(month_of(old)) in out.getvalue()
        assert partition_name(this_month) not in out.getvalue()  # the current month stays
        listed = StringIO()
        call_command("events_partitions", stdout=listed)
        line = next(x for x in listed.getvalue().splitlines() if partition_name(month_of(old)) in x)
        assert line.endswith(space)
        assert Event.objects.count() == 2 and counts_reconcile().drift == 0
    finally:
        call_command(
            "events_partitions", move_before="2999-01", tablespace="pg_default", stdout=StringIO()
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLESPACE {space}")


def shutil_chown(directory: Path) -> None:
    """PostgreSQL's server runs as postgres: the tablespace's directory must be its own."""
    import shutil

    directory.chmod(0o700)
    shutil.chown(directory, "postgres", "postgres")


@pytest.mark.slow
def test_the_migration_keeps_events_and_ids_both_ways():
    """0019 on a store with events (one 400 days old, one recent), and back to 0018."""
    import psycopg2

    name = f"mvsic_migrate_{uuid.uuid4().hex[:8]}"
    url = database_url().rsplit("/", 1)[0] + "/" + name
    admin = psycopg2.connect(database_url())
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "true",
           "DJANGO_SETTINGS_MODULE": "mvsic.settings"}  # fmt: skip

    def manage(*command: str) -> None:
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]

    try:
        manage("migrate", "--noinput")
        manage("migrate", "analytics", "0018")
        manage("shell", "-c", "from mvsic.models import Artist, Track; "
               "Track.objects.create(artist=Artist.objects.create(name='A', slug='a'), "
               "title='T', duration=40, audio='t.wav')")  # fmt: skip
        old, recent = uuid.uuid4(), uuid.uuid4()
        with psycopg2.connect(url) as db, db.cursor() as cursor:
            for event, ago in ((old, "400 days"), (recent, "1 hour")):
                cursor.execute(
                    "INSERT INTO analytics_event (id, type, track_id, listener, ts, received_at,"
                    " source, counted_at) SELECT %s, 'play', id, 'fan', now() - %s::interval,"
                    " now(), '', now() FROM mvsic_track",
                    [str(event), ago],
                )  # fmt: skip
        manage("migrate", "--noinput")
        with psycopg2.connect(url) as db, db.cursor() as cursor:
            cursor.execute("SELECT id::text, tableoid::regclass::text FROM analytics_event")
            stored = dict(cursor.fetchall())
            cursor.execute("SELECT id::text FROM analytics_eventkey")
            keys = {row[0] for row in cursor.fetchall()}
        now = datetime.now(UTC)
        assert stored == {
            str(old): partition_name(month_of(now - timedelta(days=400))),
            str(recent): partition_name(month_of(now - timedelta(hours=1))),
        }
        assert keys == {str(recent)}  # the window's ids only
        manage("migrate", "analytics", "0018")
        with psycopg2.connect(url) as db, db.cursor() as cursor:
            cursor.execute("SELECT id::text FROM analytics_event")
            assert {row[0] for row in cursor.fetchall()} == {str(old), str(recent)}
            cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = 'analytics_event_pkey'")
            assert cursor.fetchone() is not None
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
