"""Monthly partitions of the events table on PostgreSQL (declarative range partitioning on
`ts`, in UTC months). Beat creates them ahead; counting creates one on demand for an event
of a month that has none (late, or far in a test's past); `manage.py events_partitions`
lists them and moves old ones to a cheaper tablespace. SQLite keeps one plain table: every
function here does nothing there.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction

TABLE = "analytics_event"
AHEAD_MONTHS = 2  # created by beat beyond the current month
_LOCK = 0x6D76_6576  # advisory lock id: one creator at a time
_known: set[date] = set()  # months whose partition this process saw committed


@dataclass(frozen=True)
class Partition:
    name: str
    month: date
    rows: int  # the planner's estimate
    bytes: int
    tablespace: str


def partitioned() -> bool:
    """Whether the events table is partitioned (PostgreSQL after the migration)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE]
        )
        return cursor.fetchone() is not None


def month_of(moment: datetime) -> date:
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def month_add(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def partitions_for(moments: Iterable[datetime]) -> list[str]:
    """Make sure the months of `moments` have their partition (before events are inserted);
    the names created. Cheap once a month is known: no query."""
    months = {month_of(m) for m in moments} - _known
    if not months or connection.vendor != "postgresql":
        return []
    return partitions_ensure(months)


def partitions_ensure(months: Iterable[date]) -> list[str]:
    """Create the partitions of `months` that do not exist; their names. A partition is
    created under an advisory lock; it is remembered once its transaction commits (one
    rolled back must be created again)."""
    months = sorted(set(months))
    if not months or not partitioned():
        _known.update(months)  # SQLite, or not migrated yet: nothing to create
        return []
    created = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        for month in months:
            name = partition_name(month)
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is None:
                start = datetime(month.year, month.month, 1, tzinfo=UTC)
                end = datetime(*month_add(month, 1).timetuple()[:3], tzinfo=UTC)
                # The name is built from a date; the bounds are parameters.
                cursor.execute(
                    f'CREATE TABLE "{name}" PARTITION OF {TABLE} '  # noqa: S608
                    "FOR VALUES FROM (%s) TO (%s)",
                    [start, end],
                )
                created.append(name)
    transaction.on_commit(lambda: _known.update(months))
    return created


def partitions_between(start: datetime, end: datetime) -> list[str]:
    """Make sure every month from `start` to `end` has its partition (bulk loads)."""
    first, last = month_of(start), month_of(end)
    months = [first]
    while months[-1] < last:
        months.append(month_add(months[-1], 1))
    return partitions_ensure(months)


def partitions_ahead(*, now: datetime) -> list[str]:
    """The current month's partition and AHEAD_MONTHS more (beat, daily)."""
    first = month_of(now)
    return partitions_ensure(month_add(first, n) for n in range(AHEAD_MONTHS + 1))


def partitions_list() -> list[Partition]:
    """The events table's partitions, oldest first."""
    if not partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid),"
            " COALESCE(t.spcname, '') FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid"
            " LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace"
            " WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
            [TABLE],
        )
        rows = cursor.fetchall()
    return [
        Partition(name, _month_named(name), max(n, 0), size, space) for name, n, size, space in rows
    ]


def partitions_move(*, before: date, tablespace: str) -> list[str]:
    """Move the partitions of months before `before`, with their indexes, to `tablespace`
    (cheaper storage); they stay attached, so every figure and reconciliation still read
    them. Each move locks its partition while it copies; the current month is never moved."""
    before = min(before, month_of(datetime.now(UTC)))
    moved = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_tablespace WHERE spcname = %s", [tablespace])
        if cursor.fetchone() is None:
            raise ValueError(f"tablespace {tablespace!r} does not exist")
        for partition in partitions_list():
            if partition.month >= before or partition.tablespace == tablespace:
                continue
            name = connection.ops.quote_name(partition.name)
            space = connection.ops.quote_name(tablespace)
            with transaction.atomic():
                cursor.execute(f"ALTER TABLE {name} SET TABLESPACE {space}")
                cursor.execute(
                    "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass",
                    [partition.name],
                )
                for (index,) in cursor.fetchall():
                    cursor.execute(f"ALTER INDEX {index} SET TABLESPACE {space}")
            moved.append(partition.name)
    return moved


def _month_named(name: str) -> date:
    year, month = name.removeprefix(f"{TABLE}_y").split("m")
    return date(int(year), int(month), 1)
