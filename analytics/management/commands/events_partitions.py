"""List the events table's monthly partitions, create them ahead, or move old ones to a
cheaper tablespace (PostgreSQL)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from analytics.partitions import partitioned, partitions_ahead, partitions_list, partitions_move


class Command(BaseCommand):
    help = (
        "Without options, list the events table's monthly partitions (rows are the planner's "
        "estimate). --ahead creates this month's and the next two (beat does it daily). "
        "--move-before YYYY-MM --tablespace NAME moves every partition of an earlier month, "
        "with its indexes, to that tablespace; they stay attached and counted."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ahead", action="store_true", help="Create partitions ahead")
        parser.add_argument("--move-before", metavar="YYYY-MM", help="First month not moved")
        parser.add_argument("--tablespace", help="Where --move-before puts the partitions")

    def handle(self, *args, **options):
        if not partitioned():
            raise CommandError("The events table is not partitioned (PostgreSQL only).")
        if options["move_before"] or options["tablespace"]:
            self._move(options["move_before"], options["tablespace"])
        elif options["ahead"]:
            created = partitions_ahead(now=timezone.now())
            self.stdout.write(f"created {', '.join(created)}" if created else "none to create")
        else:
            for p in partitions_list():
                space = p.tablespace or "(default)"
                self.stdout.write(
                    f"{p.name}  {p.month:%Y-%m}  ~{p.rows} rows  {p.bytes // 2**20} MB  {space}"
                )

    def _move(self, before: str | None, tablespace: str | None) -> None:
        if not before or not tablespace:
            raise CommandError("--move-before and --tablespace go together.")
        try:
            year, month = (int(part) for part in before.split("-"))
            first = date(year, month, 1)
        except ValueError:
            wrong = f"--move-before must be a month as YYYY-MM, not {before!r}."
            raise CommandError(wrong) from None
        try:
            moved = partitions_move(before=first, tablespace=tablespace)
        except ValueError as exc:
            raise CommandError(f"{exc}.") from exc
        self.stdout.write(f"moved {', '.join(moved)}" if moved else "none to move")
