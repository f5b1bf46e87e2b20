"""Run the elastic counting workers of this host (the Procfile's `worker`)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from analytics.elastic import Policy, Supervisor


class Command(BaseCommand):
    help = (
        "Run between MVSIC_WORKERS_MIN and MVSIC_WORKERS_MAX `celery worker --event-batches` "
        "processes, added while the events queue backs up and removed slowly once it drains; "
        "SIGTERM stops them warmly."
    )

    def handle(self, *args, **options):
        policy = Policy.from_settings()
        self.stdout.write(f"counting workers: {policy.minimum} to {policy.maximum}")
        Supervisor(policy=policy, poll_seconds=settings.MVSIC_WORKERS_POLL_SECONDS).run()
