"""One multi-row `INSERT ... ON CONFLICT` statement: how counting writes a batch at once."""

from collections.abc import Iterable, Sequence

from django.db import connection, models


def insert_on_conflict(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence],
    *,
    conflict: Sequence[str],
    returning: Sequence[str] = (),
    update_sql: str = "",
) -> list[tuple]:
    """Insert `rows`; on a conflict over `conflict`, do nothing or run `update_sql` (a SET
    list that may name `excluded.<column>`). Returns the `returning` columns of the rows
    written. Works on PostgreSQL and SQLite (3.35+); values are prepared by the model's own
    fields."""
    rows = list(rows)
    if not rows:
        return []
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    columns = [f.column for f in model_fields]
    # psycopg2 adapts ints, strings, datetimes, UUIDs and bools itself; other databases
    # (and JSON on any) get the field's own preparation.
    native = connection.vendor == "postgresql"
    preps = [
        None if native and not isinstance(f, models.JSONField) else f.get_db_prep_save
        for f in model_fields
    ]
    params: list = []
    for row in rows:
        params.extend(
            value if prep is None else prep(value, connection)
            for prep, value in zip(preps, row, strict=True)
        )
    qn = connection.ops.quote_name
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    conflict_cols = ", ".join(qn(meta.get_field(n).column) for n in conflict)
    action = f"DO UPDATE SET {update_sql}" if update_sql else "DO NOTHING"
    # Identifiers come from model metadata and are quoted; every value is a parameter.
    target = f"{qn(meta.db_table)} ({', '.join(qn(c) for c in columns)})"
    values = ", ".join([one] * len(rows))
    sql = f"INSERT INTO {target} VALUES {values} ON CONFLICT ({conflict_cols}) {action}"  # noqa: S608
    if returning:
        sql += " RETURNING " + ", ".join(qn(meta.get_field(n).column) for n in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def table(model: type[models.Model]) -> str:
    """The model's quoted table name, for the SQL fragments of `update_sql`."""
    return connection.ops.quote_name(model._meta.db_table)
