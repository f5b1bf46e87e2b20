"""Tasks sent from requests (mvsic/background.py) against the real broker, and the sweep that
sends an upload's processing again when its task never reached the broker."""

import json
import subprocess
from datetime import timedelta

import pytest
from celery import current_app
from django.conf import settings
from django.utils import timezone

from mvsic.background import task_send
from mvsic.models import Track, TrackProcessing
from mvsic.uploads import tracks_stalled_requeue
from tests.conftest import make_artist, make_track, queues_purge

pytestmark = pytest.mark.django_db


def default_queue_depth() -> int:
    with current_app.connection_for_write() as conn:
        return conn.default_channel.queue_declare(settings.MVSIC_DEFAULT_QUEUE, passive=True)[1]


def broker_closes_this_process_connections() -> int:
    """The broker closes the connections of this process's task producer pool (as when it
    restarts): the pool keeps them, stale."""
    pool = current_app.pool
    held = [c for c in [*pool._resource.queue, *pool._dirty] if not callable(c) and c.connected]
    ports = {c.connection.sock.getsockname()[1] for c in held}
    listing = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "pid", "name"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    closed = 0
    for line in listing.splitlines():
        pid, _, name = line.partition("\t")
        if any(name.startswith(f"127.0.0.1:{port} ") for port in ports):
            subprocess.run(
                ["rabbitmqctl", "-q", "close_connection", pid, "test: a broker restart"],
                capture_output=True, timeout=60, check=True,
            )  # fmt: skip
            closed += 1
    return closed


def test_a_task_sent_over_a_connection_the_broker_closed_still_arrives(broker_queues):
    queues_purge()
    assert task_send("mvsic.tracks_requeue")
    assert broker_closes_this_process_connections() >= 1
    assert task_send("mvsic.tracks_requeue")  # Celery alone raised ConnectionResetError here
    assert default_queue_depth() == 2
    queues_purge()


def test_an_upload_whose_task_was_never_sent_is_sent_again(broker_queues):
    queues_purge()
    artist = make_artist()
    old = timezone.now() - timedelta(minutes=10)
    lost, fresh, running = (
        Track.objects.create(artist=artist, title=title, status=Track.Status.PROCESSING)
        for title in ("Lost", "Just uploaded", "Being processed")
    )
    make_track(artist, "Ready")
    Track.objects.filter(pk__in=[lost.pk, running.pk]).update(created_at=old)
    TrackProcessing.objects.create(track=running)

    assert tracks_stalled_requeue(older_than=timedelta(minutes=5)) == 1
    assert queued_track_ids() == [lost.pk]  # not the fresh one, nor the one a worker has


def queued_track_ids() -> list[int]:
    ids = []
    with current_app.connection_for_write() as conn:
        while message := conn.default_channel.basic_get(settings.MVSIC_DEFAULT_QUEUE, no_ack=True):
            _args, kwargs, _embed = json.loads(message.body)
            ids.append(kwargs["track_id"])
    return ids
