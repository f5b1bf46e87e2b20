from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mvsic", "0008_tags"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="artist",
            index=models.Index(fields=["name", "id"], name="artist_name_id"),
        ),
    ]
