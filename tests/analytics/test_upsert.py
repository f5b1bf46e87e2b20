"""analytics.upsert: a batch's rows reach the database exactly as given (quotes, backslashes,
commas, braces, non-ASCII, NULLs, zones, microseconds), and a join by keys names each key."""

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from django.db import DataError, connection, transaction

from analytics.models import Event, ListenerDay, UserAgent
from analytics.partitions import partitions_for
from analytics.upsert import counts_by_keys, insert_on_conflict, rows_by_keys, rows_source

AWKWARD = ['a "quoted" fan', "back\\slash", "comma, {brace}", "fän🎵", "NULL", "", "'"]


@pytest.mark.django_db
def test_awkward_values_are_stored_as_given(track):
    ts = datetime(2026, 3, 29, 1, 59, 59, 123456, tzinfo=timezone(timedelta(hours=5, minutes=45)))
    rows = [
        (uuid.uuid4(), "play", track.id, listener, ts, ts + timedelta(microseconds=1), seconds,
         referrer, heard, "track", ts)
        for listener, referrer, seconds, heard in zip(
            AWKWARD, reversed(AWKWARD), [31.25, None, 0.0, 1e-6, 12.5, 30.0, 99.0],
            [None, 0, 1, 2**20 - 1, None, 5, 7], strict=True,
        )
    ]  # fmt: skip
    partitions_for([ts])
    fields = ["id", "type", "track", "listener", "ts", "received_at", "seconds", "referrer"]
    insert_on_conflict(Event, [*fields, "heard", "source", "counted_at"], rows, conflict=())
    stored = {
        e.id: (e.id, e.type, e.track_id, e.listener, e.ts, e.received_at, e.seconds, e.referrer,
               e.heard, e.source, e.counted_at)
        for e in Event.objects.all()
    }  # fmt: skip
    assert stored == {row[0]: row for row in rows}


@pytest.mark.django_db
def test_conflicts_update_and_return_what_was_written():
    texts = AWKWARD[:4]
    first = insert_on_conflict(
        UserAgent, ["text", "bot"], [(t, False) for t in texts], conflict=["text"],
        returning=["text", "bot"],
    )  # fmt: skip
    assert sorted(first) == sorted((t, False) for t in texts)
    again = insert_on_conflict(
        UserAgent, ["text", "bot"], [(texts[0], True), ("new", True)], conflict=["text"],
        returning=["text"],
    )  # fmt: skip
    assert sorted(again) == [("new",)]
    assert set(UserAgent.objects.values_list("text", "bot")) == {
        *((t, False) for t in texts),
        ("new", True),
    }


@pytest.mark.django_db
def test_rows_by_keys_names_each_key_and_counts_rows():
    day = date(2024, 2, 29)
    rows = [("a", 7, listener, day + timedelta(days=i)) for i, listener in enumerate(AWKWARD)]
    rows.append(("a", 7, AWKWARD[0], day + timedelta(days=40)))
    insert_on_conflict(
        ListenerDay, ["scope", "key", "listener", "day"], rows,
        conflict=["scope", "key", "listener", "day"],
    )  # fmt: skip
    wanted = {(row[0], row[1], row[2], row[3]) for row in rows[:3]} | {("a", 7, "absent", day)}
    found = rows_by_keys(ListenerDay, ["scope", "key", "listener", "day"], wanted, ["listener"])
    assert sorted(found) == sorted((key, key[2]) for key in wanted if key[2] != "absent")
    counts = counts_by_keys(ListenerDay, ["scope", "key", "listener"], [("a", 7, AWKWARD[0])])
    assert counts == {("a", 7, AWKWARD[0]): 2}


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["nul\x00byte", "lone \ud800 surrogate"])
def test_a_value_the_database_refuses_is_a_data_error(text):
    """Counting parks the one payload the database refuses (analytics.consumer): it must
    learn of it as a DataError, not as an error of the client (a lone surrogate is one the
    JSON encoder itself refuses)."""
    with pytest.raises(DataError), transaction.atomic():
        insert_on_conflict(UserAgent, ["text", "bot"], [(text, False)], conflict=())
    assert not UserAgent.objects.exists()


def test_rows_are_one_parameter():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    sql, params = rows_source(
        ListenerDay, ["scope", "key", "listener", "day"], [("a", 1, "x", date(2026, 1, 1))] * 500
    )
    assert len(params) == 1 and sql.count("%s") == 1
    assert '"2026-01-01"' in params[0]
