"""Celery over RabbitMQ: the broker, how tasks are sent and acknowledged, and the queues."""

from mvsic.queues import quorum_queue
from mvsic.settings.environment import env

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="amqp://guest:guest@127.0.0.1:5672//")
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=8)
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Queue names; tests use their own so they never share a queue with a running site.
MVSIC_EVENTS_QUEUE = env.str("MVSIC_EVENTS_QUEUE", default="mvsic.events")
MVSIC_DEFAULT_QUEUE = env.str("MVSIC_DEFAULT_QUEUE", default="mvsic.default")

# Celery's tasks use the default queue only. The events queue (MVSIC_EVENTS_QUEUE, built by
# analytics.wire) is consumed by `celery worker --event-batches` and is not a task queue,
# so no worker started without that flag can take events off it.
# Deliveries of a message without an ack before it goes to its queue's dead-letter queue
# (<queue>.dead); the batch consumer parks dead-lettered events as poison.
MVSIC_DELIVERY_LIMIT = env.int("MVSIC_DELIVERY_LIMIT", default=20)
CELERY_TASK_QUEUES = [quorum_queue(MVSIC_DEFAULT_QUEUE, MVSIC_DELIVERY_LIMIT)]
CELERY_TASK_DEFAULT_QUEUE = MVSIC_DEFAULT_QUEUE
CELERY_TASK_DEFAULT_EXCHANGE = MVSIC_DEFAULT_QUEUE
CELERY_TASK_DEFAULT_ROUTING_KEY = MVSIC_DEFAULT_QUEUE
