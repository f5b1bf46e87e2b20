"""Fill the demo artists' dashboards with months of plausible listening history."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analytics.demo_history import MAX_DAYS, history_fill

DEFAULT_DAYS = 400


class Command(BaseCommand):
    help = (
        "Count DAYS days of made-up fan events for the demo artists (run seed_demo first), "
        "through the same counting code as the worker. A rerun in the same hour counts "
        "nothing new. Runs only with DJANGO_DEBUG=true, or with --force."
    )

    def add_arguments(self, parser):
        # Read as text and checked in handle(): a bad value is one readable error line.
        parser.add_argument(
            "--days",
            default=DEFAULT_DAYS,
            help=f"Days of history, 1 to {MAX_DAYS} (default {DEFAULT_DAYS})",
        )
        parser.add_argument("--seed", default=1, help="Seed of the made-up events (default 1)")
        parser.add_argument("--force", action="store_true", help="Run although DJANGO_DEBUG is off")

    def handle(self, *args, **options):
        if not (settings.DEBUG or options["force"]):
            raise CommandError(
                "demo_history writes made-up events into the stats: it runs only with "
                "DJANGO_DEBUG=true, or with --force."
            )
        days = _whole(options["days"], "--days")
        seed = _whole(options["seed"], "--seed")
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be from 1 to {MAX_DAYS}, not {days}.")
        verbose = options.get("verbosity", 1) > 1
        try:
            result = history_fill(days=days, seed=seed, log=self.stdout.write if verbose else None)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo history: {days} days, {result.events} new events counted "
                f"({result.filtered} filtered) of {result.generated} made, "
                f"in {result.seconds:.1f} s."
            )
        )


def _whole(value, name: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise CommandError(f"{name} must be a whole number, not {value!r}.") from None
