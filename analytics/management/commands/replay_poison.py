from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import get_current_timezone, is_naive, make_aware

from analytics.services.replay import poison_replay


class Command(BaseCommand):
    help = (
        "Send parked (poison) events back through counting, once their cause is gone: each "
        "is counted at most once by its id, or parked again with the reason it fails now."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reason", default="", help="Only events whose reason contains this")
        parser.add_argument(
            "--since", default=None, help="Only events parked at or after this date or time (ISO)"
        )

    def handle(self, *args, reason: str, since: str | None, **options):
        moment = _moment(since) if since is not None else None
        result = poison_replay(reason=reason, since=moment)
        self.stdout.write(
            f"replayed {result.replayed}: {result.counted} counted, "
            f"{result.parked_again} parked again"
        )


def _moment(text: str):
    """An aware datetime from an ISO date or date and time; CommandError otherwise."""
    try:
        moment = parse_datetime(text)
        if moment is None and (day := parse_date(text)) is not None:
            moment = parse_datetime(f"{day.isoformat()}T00:00:00")
    except ValueError:  # well-formed but impossible, like month 13
        moment = None
    if moment is None:
        raise CommandError(f"--since {text!r} is not an ISO date or date and time")
    return make_aware(moment, get_current_timezone()) if is_naive(moment) else moment
