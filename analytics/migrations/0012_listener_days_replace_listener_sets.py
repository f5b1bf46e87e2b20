"""Listener days replace the all-time listener sets; events counted before them are
rolled up again so that a returning listener is not counted as new."""

from django.db import migrations


def _figures_rebuild(apps, schema_editor):
    Event = apps.get_model("analytics", "Event")
    ListenerDay = apps.get_model("analytics", "ListenerDay")
    if not Event.objects.exists() or ListenerDay.objects.exists():
        return
    from analytics.services.rebuild import artist_figures_rebuild
    from mvsic.models import Artist

    for artist in Artist.objects.filter(tracks__events__isnull=False).distinct():
        artist_figures_rebuild(artist=artist)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0011_reach_cells")]

    operations = [
        # Dropping the tables drops their keys and constraints with them.
        migrations.DeleteModel(name="ArtistListener"),
        migrations.DeleteModel(name="TrackListener"),
        migrations.RunPython(_figures_rebuild, migrations.RunPython.noop),
    ]
