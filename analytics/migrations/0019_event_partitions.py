"""Events partitioned by month of `ts` on PostgreSQL, deduplicated by EventKey over a window.

The events table is rebuilt as a partitioned table (one partition per UTC month the stored
events span, and two months ahead) without an index on the id: EventKey, filled here with
the ids of the deduplication window, decides duplicates from now on. A large store takes
this migration's time to copy; SQLite keeps its plain table.
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models

TABLE = "analytics_event"
TRACK_TS = "analytics_e_track_i_63bdab_idx"


def _foreign_keys(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    return cursor.fetchall()


def _months(cursor, table: str) -> list[str]:
    """The first day of every UTC month from the oldest stored event to two months ahead."""
    cursor.execute(
        "SELECT to_char(m, 'YYYY-MM-DD') FROM generate_series("
        " date_trunc('month', LEAST(COALESCE((SELECT min(ts) FROM " + table + "), now()), now())"
        "  AT TIME ZONE 'UTC'),"
        " date_trunc('month', GREATEST(COALESCE((SELECT max(ts) FROM " + table + "), now()),"
        "  now() + interval '2 months') AT TIME ZONE 'UTC'),"
        " interval '1 month') AS m"
    )
    return [row[0] for row in cursor.fetchall()]


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    old = TABLE + "_unpartitioned"
    with schema_editor.connection.cursor() as cursor:
        keys = _foreign_keys(cursor, TABLE)
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
        cursor.execute(f"ALTER INDEX {TRACK_TS} RENAME TO {old}_track_ts")
        cursor.execute(f"ALTER INDEX {TABLE}_pkey RENAME TO {old}_pkey")
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY RANGE (ts)"
        )
        cursor.execute(f"CREATE INDEX {TRACK_TS} ON {TABLE} (track_id, ts)")
        for name, definition in keys:
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
        for first in _months(cursor, old):
            y, m = int(first[:4]), int(first[5:7])
            after = f"{y + m // 12:04d}-{m % 12 + 1:02d}-01"
            cursor.execute(
                f"CREATE TABLE {TABLE}_y{y:04d}m{m:02d} PARTITION OF {TABLE} "
                f"FOR VALUES FROM ('{first} 00:00+00') TO ('{after} 00:00+00')"
            )
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")
        # Check the copied rows' foreign keys now: an index cannot be built on a table with
        # deferred checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        window = timedelta(seconds=settings.MVSIC_MAX_EVENT_AGE_SECONDS, days=1)
        cursor.execute(
            f"INSERT INTO analytics_eventkey (id, ts) SELECT id, ts FROM {old} WHERE ts >= %s",
            [_now() - window],
        )
        cursor.execute(f"DROP TABLE {old}")


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    old = TABLE + "_partitioned"
    with schema_editor.connection.cursor() as cursor:
        keys = _foreign_keys(cursor, TABLE)
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
        cursor.execute(f"ALTER INDEX {TRACK_TS} RENAME TO {old}_track_ts")
        cursor.execute(f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS)")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
        cursor.execute(f"CREATE INDEX {TRACK_TS} ON {TABLE} (track_id, ts)")
        for name, definition in keys:
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {old} ON CONFLICT (id) DO NOTHING")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DROP TABLE {old}")


def _now():
    from django.utils import timezone

    return timezone.now()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0018_worker_pool"),
        ("mvsic", "0011_track_upload_processing"),
    ]

    operations = [
        migrations.CreateModel(
            name="EventKey",
            fields=[
                ("id", models.UUIDField(primary_key=True, serialize=False)),
                (
                    "ts",
                    models.DateTimeField(db_index=True, help_text="The event's time (client time)"),
                ),
            ],
        ),
        migrations.RunPython(partition, unpartition),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["ts"], name="analytics_e_ts_31832f_idx"),
        ),
    ]
