"""The RabbitMQ queues Mvsic declares; settings and the event pipeline build them here."""

from kombu import Exchange, Queue


def quorum_queue(name: str) -> Queue:
    """A quorum queue (durable, replicated across a RabbitMQ cluster) behind a direct
    exchange of the same name."""
    exchange = Exchange(name, type="direct", durable=True)
    return Queue(name, exchange, routing_key=name, queue_arguments={"x-queue-type": "quorum"})
