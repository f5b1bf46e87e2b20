"""GIN indexes for full-text search, on PostgreSQL only (SQLite searches with LIKE).

They are built here and kept out of the models' Meta.indexes: SQLite remakes a table with
every index of its model state whenever a later migration alters it, and cannot build these.
The expressions are those of mvsic.models.ARTIST_SEARCH_VECTOR and TRACK_SEARCH_VECTOR, which
the search queries use, so PostgreSQL answers them from the indexes.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations


def _indexes():
    config = "english"
    artist = SearchVector("name", weight="A", config=config) + SearchVector(
        "bio", weight="B", config=config
    )
    track = SearchVector("title", config=config)
    return [
        ("Artist", GinIndex(artist, name="artist_search")),
        ("Track", GinIndex(track, name="track_search")),
    ]


def indexes_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes():
        schema_editor.add_index(apps.get_model("mvsic", model), index)


def indexes_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes():
        schema_editor.remove_index(apps.get_model("mvsic", model), index)


class Migration(migrations.Migration):
    dependencies = [
        ("mvsic", "0009_artist_name_index"),
    ]

    operations = [migrations.RunPython(indexes_create, indexes_drop)]
