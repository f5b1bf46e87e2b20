"""Create the demo catalog: artists with member logins, tracks with synthesised audio."""

import json

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from mvsic import demo


class Command(BaseCommand):
    help = (
        "Create demo artists, their logins and playable tracks (idempotent; existing users "
        "are never changed). The logins share a published password: the command runs only "
        "with DJANGO_DEBUG=true, or with --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", help="Print the artists, logins and tracks as JSON"
        )
        parser.add_argument("--force", action="store_true", help="Run although DJANGO_DEBUG is off")
        parser.add_argument(
            "--history",
            type=int,
            default=0,
            metavar="DAYS",
            help="Also count DAYS days of made-up listening history (analytics' demo_history)",
        )

    def handle(self, *args, **options):
        if not (settings.DEBUG or options["force"]):
            raise CommandError(
                "seed_demo creates logins with a published password (a superuser among "
                "them): it runs only with DJANGO_DEBUG=true, or with --force."
            )
        catalog = demo.demo_catalog_ensure()
        if options["history"] > 0:
            # By name: the catalog app does not import analytics.
            call_command(
                "demo_history",
                days=options["history"],
                force=True,
                stdout=self.stderr if options["json"] else self.stdout,
            )
        if options["json"]:
            self.stdout.write(json.dumps(_as_json(catalog)))
            self.stderr.write(
                f"Admin login (demo only): {catalog.admin.username} / {_shown(catalog.admin)}"
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
        self.stdout.write(f"  {admin.username:<16} {_shown(admin):<12} /admin/ and every dashboard")
        for artist in catalog.artists:
            self.stdout.write(
                f"  {artist.login.username:<16} {_shown(artist.login):<12} "
                f"/dashboard/{artist.slug}/ ({artist.name})"
            )
        self.stdout.write("\nTracks:")
        for artist in catalog.artists:
            listing = ", ".join(f"{t.title} ({t.duration:.0f} s)" for t in artist.tracks)
            self.stdout.write(f"  {artist.name}: {listing}")


def _shown(login: demo.DemoLogin) -> str:
    return login.password or "(existing user, password unchanged)"


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
