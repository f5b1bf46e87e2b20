"""Create the demo catalog: artists with member logins, tracks with synthesised audio."""

import json

from django.core.management.base import BaseCommand

from mvsic import demo


class Command(BaseCommand):
    help = (
        "Create demo artists, their logins and playable tracks (idempotent). "
        "The passwords are for local demos only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", help="Print the artists, logins and tracks as JSON"
        )

    def handle(self, *args, **options):
        catalog = demo.demo_catalog_ensure()
        if options["json"]:
            self.stdout.write(json.dumps(_as_json(catalog)))
            self.stderr.write(
                f"Admin login (demo only): {catalog.admin.username} / {catalog.admin.password}"
            )
            return
        self.stdout.write(self.style.SUCCESS("Demo catalog ready."))
        if catalog.created:
            self.stdout.write("Created: " + ", ".join(catalog.created))
        else:
            self.stdout.write("Nothing new: everything already existed.")
        self.stdout.write("\nLogins (demo-only passwords, never use them on a real site):")
        self.stdout.write(f"  {'username':<16} {'password':<12} can see")
        admin = catalog.admin
        self.stdout.write(
            f"  {admin.username:<16} {admin.password:<12} /admin/ and every dashboard"
        )
        for artist in catalog.artists:
            self.stdout.write(
                f"  {artist.login.username:<16} {artist.login.password:<12} "
                f"/dashboard/{artist.slug}/ ({artist.name})"
            )
        self.stdout.write("\nTracks:")
        for artist in catalog.artists:
            listing = ", ".join(f"{t.title} ({t.duration:.0f} s)" for t in artist.tracks)
            self.stdout.write(f"  {artist.name}: {listing}")


def _as_json(catalog: demo.DemoCatalog) -> dict:
    return {
        "artists": [
            {
                "slug": artist.slug,
                "username": artist.login.username,
                "password": artist.login.password,
                "tracks": [
                    {"id": t.id, "title": t.title, "duration": t.duration} for t in artist.tracks
                ],
            }
            for artist in catalog.artists
        ]
    }
