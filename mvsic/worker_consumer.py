"""The Celery worker's consumer, as `celery worker` runs it (mvsic.celery names it)."""

from celery.worker import consumer


class WorkerConsumer(consumer.Consumer):
    """Celery's consumer without its native delayed delivery step. That step runs at every
    (re)connection and declares its exchanges on each node of CELERY_BROKER_URL in turn,
    retrying a node that is down for about 17 s before the worker consumes anything; it
    serves countdown and ETA tasks only, which Mvsic never sends, and cannot serve them on
    the direct exchanges Mvsic's queues use anyway."""

    class Blueprint(consumer.Consumer.Blueprint):
        default_steps = [
            step
            for step in consumer.Consumer.Blueprint.default_steps
            if not step.endswith(":DelayedDelivery")
        ]
