"""The Celery app; its configuration lives in settings under the CELERY_ prefix."""

import os

from celery import Celery
from click import Option

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mvsic.settings")

app = Celery("mvsic")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Workers run without Celery's native delayed delivery (mvsic.worker_consumer).
app.conf.worker_consumer = "mvsic.worker_consumer:WorkerConsumer"
app.autodiscover_tasks()

# `celery worker --event-batches` also counts the events queue in batches.
app.user_options["worker"].add(
    Option(["--event-batches"], is_flag=True, default=False, help="Count events in batches.")
)
app.steps["consumer"].add("analytics.consumer:EventBatchConsumer")
