from django.core.management.base import BaseCommand, CommandError

from analytics.models import IngestKey
from analytics.services.ingest_keys import IngestKeyError, ingest_key_create, ingest_key_revoke


class Command(BaseCommand):
    help = (
        "Ingest keys of server-side clients: `create NAME` prints a new key once, "
        "`revoke NAME` stops it, `list` shows them (never the keys)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "revoke", "list"])
        parser.add_argument("name", nargs="?", help="The client's name (create, revoke)")

    def handle(self, *args, action: str, name: str | None, **options):
        if action == "list":
            for row in IngestKey.objects.order_by("name"):
                state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
                self.stdout.write(f"{row.name}\t{row.prefix}…\t{state}")
            return
        if not name:
            raise CommandError(f"{action} needs the key's NAME")
        try:
            if action == "create":
                _, key = ingest_key_create(name=name)
                self.stderr.write(f"Key for {name!r}; it is shown only now, store it safely:")
                self.stdout.write(key)
            else:
                ingest_key_revoke(name=name)
                self.stdout.write(f"revoked {name!r}")
        except IngestKeyError as exc:
            raise CommandError(str(exc)) from exc
