from django.db import migrations, models


def positions_from_titles(apps, schema_editor):
    """Existing tracks keep the order fans saw (by title) as their first positions."""
    Track = apps.get_model("mvsic", "Track")
    changed = []
    artist, position = None, 0
    for track in Track.objects.order_by("artist_id", "title").only("id", "artist_id"):
        position = position + 1 if track.artist_id == artist else 0
        artist = track.artist_id
        track.position = position
        changed.append(track)
    Track.objects.bulk_update(changed, ["position"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("mvsic", "0006_artist_picture"),
    ]

    operations = [
        migrations.AddField(
            model_name="track",
            name="position",
            field=models.PositiveIntegerField(default=0, help_text="Order on the artist's page"),
        ),
        migrations.RunPython(positions_from_titles, migrations.RunPython.noop),
    ]
