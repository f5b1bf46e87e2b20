"""Room on each page of the tables counting updates in place most, so that PostgreSQL can
update a row without new index entries (a heap-only tuple)."""

from django.db import migrations

TABLES = ("analytics_rollup", "analytics_reachcell", "analytics_trackhour")


def _fillfactor(value: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {value})")

    return apply


class Migration(migrations.Migration):
    dependencies = [("analytics", "0012_listener_days_replace_listener_sets")]

    operations = [migrations.RunPython(_fillfactor(70), _fillfactor(100))]
