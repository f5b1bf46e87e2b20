"""Publishing accepted events to RabbitMQ, one Celery task message per event."""

import logging

from analytics.tasks import record_event

logger = logging.getLogger(__name__)


class PublishFailed(Exception):
    """The broker did not take (or did not confirm) the messages."""


def events_publish(payloads: list[dict]) -> None:
    """Publish every payload as an `analytics.record_event` task; raise PublishFailed if any
    publish was not confirmed by the broker."""
    try:
        for payload in payloads:
            record_event.apply_async((payload,), retry=False)
    except Exception as exc:  # kombu/amqp raise a zoo of connection and socket errors
        logger.warning("publish failed: %r", exc)
        raise PublishFailed(str(exc)) from exc
