"""The RabbitMQ queues Mvsic declares; settings and the event pipeline build them here.

Every queue is a quorum queue with an explicit delivery limit and a dead-letter queue beside
it, so that what happens to a message delivered too often does not depend on the RabbitMQ
version (4.0 and later drop it after 20 deliveries unless told otherwise). Dead-lettering is
at-least-once: a message is never dropped on its way to the dead-letter queue.
"""

from kombu import Exchange, Queue

DEAD = ".dead"


def quorum_queue(name: str, delivery_limit: int) -> Queue:
    """A quorum queue (durable, replicated across a RabbitMQ cluster) behind a direct
    exchange of the same name; a message delivered `delivery_limit` times without an ack
    goes to `<name>.dead`."""
    exchange = Exchange(name, type="direct", durable=True)
    arguments = {
        "x-queue-type": "quorum",
        "x-delivery-limit": delivery_limit,
        "x-dead-letter-exchange": name + DEAD,
        "x-dead-letter-routing-key": name + DEAD,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
    return Queue(name, exchange, routing_key=name, queue_arguments=arguments)


def dead_letter_queue(name: str) -> Queue:
    """Where `name`'s messages go after too many deliveries (kept until taken)."""
    exchange = Exchange(name + DEAD, type="direct", durable=True)
    return Queue(
        name + DEAD, exchange, routing_key=name + DEAD, queue_arguments={"x-queue-type": "quorum"}
    )
