from celery.utils.imports import symbol_by_name

from mvsic.celery import app
from mvsic.worker_consumer import WorkerConsumer


def test_workers_run_celerys_consumer_without_native_delayed_delivery():
    assert symbol_by_name(app.conf.worker_consumer) is WorkerConsumer
    steps = WorkerConsumer.Blueprint.default_steps
    assert not [s for s in steps if "delayed_delivery" in s]
    assert "celery.worker.consumer.tasks:Tasks" in steps
    assert "celery.worker.consumer.consumer:Evloop" in steps
