"""Pipeline health for the admin page: queue, spool, lag, poison events, reconciliation."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from kombu import Connection

from analytics import wire
from analytics.models import CountingFailure, PoisonEvent, ReconcileRun, WorkerPool
from analytics.relay import process_relay


def pipeline_health_get() -> dict:
    """Queue depth, spool size, the age of the oldest event not yet counted, poison events
    and the last reconciliation: what an operator checks first."""
    health: dict = {"checked_at": timezone.now()}
    health.update(queue_status())
    health["events_per_message"] = settings.MVSIC_EVENTS_PER_MESSAGE
    spool = process_relay().spool
    health["spool_events"] = spool.size()
    health["spool_segments"] = len(spool.segments())
    oldest = [t for t in (health.pop("head_received_at", None), spool.oldest_received_at()) if t]
    health["oldest_unprocessed_age_seconds"] = (
        (health["checked_at"] - min(oldest)).total_seconds() if oldest else 0.0
    )
    health["poison_count"] = PoisonEvent.objects.count()
    health["poison_recent"] = list(PoisonEvent.objects.order_by("-created_at")[:10])
    health["last_reconcile"] = ReconcileRun.objects.order_by("-started_at").first()
    health["counting_failures"] = list(CountingFailure.objects.order_by("first_failed_at"))
    health["worker_pools"] = worker_pools_list(now=health["checked_at"])
    return health


def queue_status() -> dict:
    """Depth (in messages) and consumers of the events queue, and when its first waiting
    event arrived. The head is read with a get that is never acknowledged: closing the
    channel returns it to the queue."""
    queue = wire.events_queue()
    status = {"queue": queue.name, "queue_depth": None, "queue_consumers": None}
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            bound = queue(conn.channel())
            _, depth, consumers = bound.queue_declare(passive=True)
            status.update(queue_depth=depth, queue_consumers=consumers)
            if depth:
                message = bound.get(no_ack=False, accept=["json"])
                if message is not None:
                    payload = wire.body_events(message.decode())[0]
                    status["head_received_at"] = datetime.fromisoformat(payload["received_at"])
            bound.channel.close()
    except Exception as exc:  # report, never raise: this feeds a status page
        status["broker_error"] = f"{type(exc).__name__}: {exc}"
    return status


def worker_pools_list(*, now: datetime) -> list[WorkerPool]:
    """Each host's elastic supervisor as of its last heartbeat; `stale` when it missed about
    five rounds (it stopped, or cannot reach the database)."""
    stale_after = max(5 * settings.MVSIC_WORKERS_POLL_SECONDS, 10.0)
    pools = list(WorkerPool.objects.all())
    for pool in pools:
        pool.stale = (now - pool.heartbeat_at).total_seconds() > stale_after
    return pools
