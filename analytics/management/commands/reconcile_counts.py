from django.core.management.base import BaseCommand, CommandError

from analytics.services.reconciliation import counts_reconcile


class Command(BaseCommand):
    help = (
        "Recompute every counter from the stored events and report any drift; "
        "--fix rewrites the counters. Exits 1 when drift remains."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="Repair the drift found.")

    def handle(self, *args, fix: bool, **options):
        run = counts_reconcile(fix=fix)
        for diff in run.details[:20]:
            self.stdout.write(
                f"  {diff['table']} {diff['key']} {diff['field']}: "
                f"stored {diff['stored']}, events imply {diff['expected']}"
            )
        if run.drift > len(run.details[:20]):
            self.stdout.write(f"  ... and {run.drift - 20} more")
        state = "repaired" if run.fixed else ("none" if not run.drift else "found")
        self.stdout.write(f"events: {run.events}, drift: {run.drift} ({state})")
        if run.drift and not run.fixed:
            raise CommandError(f"{run.drift} counters differ from the events; run with --fix")
