"""One statement per table per batch: how counting writes a batch at once (`INSERT ... ON
CONFLICT`) and reads the rows a batch's keys name (`rows_by_keys`)."""

import json
from collections.abc import Iterable, Sequence

import orjson
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
    list that may name `excluded.<column>`); with no `conflict`, a plain insert. Returns the
    `returning` columns of the rows written. Works on PostgreSQL and SQLite (3.35+); values
    are prepared by the model's own fields."""
    rows = list(rows)
    if not rows:
        return []
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    columns = [f.column for f in model_fields]
    # psycopg2 adapts ints, strings, datetimes, UUIDs and bools itself; other databases
    # (and JSON on any) get the field's own preparation.
    native = connection.vendor == "postgresql"
    if native and not any(isinstance(f, models.JSONField) for f in model_fields):
        source, params = _json_rows(model_fields, rows)
    else:
        source, params = _values(model_fields, rows, native)
    qn = connection.ops.quote_name
    conflict_cols = ", ".join(qn(meta.get_field(n).column) for n in conflict)
    action = f"DO UPDATE SET {update_sql}" if update_sql else "DO NOTHING"
    # Identifiers come from model metadata and are quoted; every value is a parameter.
    target = f"{qn(meta.db_table)} ({', '.join(qn(c) for c in columns)})"
    sql = f"INSERT INTO {target} {source}"  # noqa: S608
    if conflict:
        sql += f" ON CONFLICT ({conflict_cols}) {action}"
    if returning:
        sql += " RETURNING " + ", ".join(qn(meta.get_field(n).column) for n in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def _json_rows(model_fields, rows, *, ordinality: bool = False) -> tuple[str, list]:
    """PostgreSQL: the rows as one JSON parameter, a relation typed like the fields (with
    `ordinality`, each row's position from 1 as a last column). One string to bind and
    parse, instead of an array literal of every value for the client to quote and the
    server to analyse value by value."""
    columns = ", ".join(f"(j.e->>{i})::{f.db_type(connection)}" for i, f in enumerate(model_fields))
    if ordinality:
        columns += ", j.n"
    source = "jsonb_array_elements(%s::jsonb)" + (" WITH ORDINALITY" if ordinality else "")
    alias = "j(e, n)" if ordinality else "j(e)"
    # Casts are the fields' own column types; the values are one parameter.
    sql = f"SELECT {columns} FROM {source} AS {alias}"  # noqa: S608
    return sql, [_json(rows)]


def _json(rows) -> str:
    """The rows as JSON text: orjson writes UUIDs, datetimes and dates itself, ten times
    faster than the json module calling str() for each. A string orjson refuses (a lone
    surrogate) is written by the json module as an escape that the database then refuses
    as a DataError, as it refuses a NUL: counting parks the payload."""
    try:
        return orjson.dumps(rows, default=str).decode()
    except orjson.JSONEncodeError:
        return json.dumps(rows, default=str)


def _values(model_fields, rows, native: bool) -> tuple[str, list]:
    """A VALUES list, each value prepared by its field (SQLite, and JSON anywhere)."""
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
    one = "(" + ", ".join(["%s"] * len(model_fields)) + ")"
    return "VALUES " + ", ".join([one] * len(rows)), params


def rows_by_keys(
    model: type[models.Model], key_fields: Sequence[str], keys: Iterable[Sequence], fields
) -> list[tuple]:
    """(key, *fields) of the rows whose `key_fields` equal one of `keys` (exact tuples), in
    one statement: a join with the keys (one JSON parameter) on PostgreSQL, an IN per
    column elsewhere."""
    return _by_keys(model, key_fields, keys, fields, count=False)


def counts_by_keys(
    model: type[models.Model], key_fields: Sequence[str], keys: Iterable[Sequence]
) -> dict[tuple, int]:
    """How many rows there are for each of `keys` (those with none are left out)."""
    return dict(_by_keys(model, key_fields, keys, (), count=True))


def _by_keys(model, key_fields, keys, fields, *, count: bool) -> list[tuple]:
    keys = list(set(map(tuple, keys)))
    if not keys:
        return []
    if connection.vendor != "postgresql":
        return _by_keys_orm(model, key_fields, keys, fields, count=count)
    meta = model._meta
    key_model_fields = [meta.get_field(name) for name in key_fields]
    qn = connection.ops.quote_name
    names = [f"k{i}" for i in range(len(key_fields))]
    source, params = _json_rows(key_model_fields, keys, ordinality=True)
    join = " AND ".join(
        f"t.{qn(f.column)} = k.{n}" for f, n in zip(key_model_fields, names, strict=True)
    )
    # Rows name their key by its position in `keys`: no key value is sent back and parsed.
    selected = ["k.n", *(f"t.{qn(meta.get_field(f).column)}" for f in fields)]
    if count:
        selected.append("COUNT(*)")
    sql = (
        f"SELECT {', '.join(selected)} FROM {qn(meta.db_table)} t "  # noqa: S608
        f"JOIN ({source}) AS k({', '.join(names)}, n) ON {join}"
    )
    if count:
        sql += " GROUP BY k.n"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(keys[row[0] - 1], *row[1:]) for row in cursor.fetchall()]


def _by_keys_orm(model, key_fields, keys, fields, *, count: bool) -> list[tuple]:
    """The same, with the ORM: a superset by IN per column, narrowed here."""
    columns = list(zip(*keys, strict=True))
    lookup = {f"{name}__in": set(values) for name, values in zip(key_fields, columns, strict=True)}
    rows = model.objects.filter(**lookup)
    wanted, width = set(keys), len(key_fields)
    if count:
        found = [
            (tuple(r[k] for k in key_fields), r["n"])
            for r in rows.values(*key_fields).annotate(n=models.Count("pk"))
        ]
        return [row for row in found if row[0] in wanted]
    found = rows.values_list(*key_fields, *fields)
    return [(tuple(r[:width]), *r[width:]) for r in found if tuple(r[:width]) in wanted]


def table(model: type[models.Model]) -> str:
    """The model's quoted table name, for the SQL fragments of `update_sql`."""
    return connection.ops.quote_name(model._meta.db_table)


def rows_source(model: type[models.Model], fields: Sequence[str], rows: list[Sequence]):
    """(SQL, params) of `rows` as a relation with the columns of `fields` (typed like
    them), for a `WITH name(columns) AS (...)` of a statement written by hand."""
    model_fields = [model._meta.get_field(name) for name in fields]
    if connection.vendor == "postgresql":
        return _json_rows(model_fields, rows)
    return _values(model_fields, rows, native=False)
