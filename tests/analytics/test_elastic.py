"""analytics.elastic: the scaling decision, and the supervisor growing, draining and
shrinking with real workers on the real broker."""

import os
import signal
import sys

import pytest
from django.conf import settings
from kombu import Connection, Producer

from analytics import wire
from analytics.elastic import Policy, workers_target, workers_wanted
from analytics.models import TrackStats, WorkerPool
from tests.conftest import (
    ManagedProcess,
    make_payload,
    make_track,
    pids_children,
    queues_purge,
    wait_for,
)

POLICY = Policy(
    minimum=1, maximum=4, messages_per_worker=100, max_backlog_seconds=10, down_after_seconds=60
)


@pytest.mark.parametrize(
    "current, depth, backlog, wanted",
    [
        (1, 0, 0, 1),  # idle: the minimum
        (3, 0, 0, 1),
        (1, 100, 0, 1),  # one worker's share
        (1, 101, 0, 2),
        (1, 350, 0, 4),
        (1, 10_000, 0, 4),  # never past the maximum
        (2, 50, 9.9, 1),  # shallow and young: fewer would do
        (2, 50, 10, 3),  # shallow but old: the workers are not keeping up, one more
        (4, 50, 30, 4),  # old, but at the maximum already
        (1, 0, 30, 1),  # an empty queue has no backlog, whatever the clock says
    ],
)
def test_workers_wanted(current, depth, backlog, wanted):
    got = workers_wanted(policy=POLICY, current=current, depth=depth, backlog_seconds=backlog)
    assert got == wanted


@pytest.mark.parametrize(
    "current, wanted, low_for, target",
    [
        (1, 4, 0, 4),  # up at once, all the way
        (2, 3, 0, 3),
        (3, 3, 500, 3),  # steady
        (4, 1, 0, 4),  # down: not yet
        (4, 1, 59.9, 4),
        (4, 1, 60, 3),  # then one at a time, not straight to what is wanted
        (2, 1, 60, 1),
        (0, 1, 0, 1),  # below the minimum (starting): up
        (6, 4, 0, 4),  # above the maximum (settings lowered): down to it at once
    ],
)
def test_workers_target_is_fast_up_slow_down(current, wanted, low_for, target):
    got = workers_target(policy=POLICY, current=current, wanted=wanted, low_for_seconds=low_for)
    assert got == target


def test_a_burst_then_quiet_walks_up_at_once_and_down_one_step_per_period():
    """The supervisor's loop over a made-up queue: depth per 10 s round."""
    depths = [0, 500, 400, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    current, low_since, sizes = 1, None, []
    for i, depth in enumerate(depths):
        now = i * 10.0
        wanted = workers_wanted(policy=POLICY, current=current, depth=depth, backlog_seconds=0)
        low_since = (low_since if low_since is not None else now) if wanted < current else None
        low_for = now - low_since if low_since is not None else 0.0
        target = workers_target(
            policy=POLICY, current=current, wanted=wanted, low_for_seconds=low_for
        )
        if target < current:
            low_since = now
        current = target
        sizes.append(current)
    # 200 waiting at 30 s needs only 2: the quiet period starts there, so 60 s later one
    # worker stops, and one more after each further 60 s.
    assert sizes == [1, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 2]


class SupervisorProcess(ManagedProcess):
    name = "events_workers"

    def command(self) -> list[str]:
        return [sys.executable, "manage.py", "events_workers"]

    def ready(self) -> bool:
        return b"counting workers:" in self.log_path.read_bytes()


def pool() -> WorkerPool | None:
    return WorkerPool.objects.filter().first()


@pytest.mark.integration
@pytest.mark.slow
def test_supervisor_grows_on_a_backlog_drains_it_shrinks_back_and_restarts_the_dead(
    transactional_db, broker_queues, tmp_path
):
    queues_purge()
    track = make_track()
    messages, per_message = 400, 5
    with Connection(settings.CELERY_BROKER_URL) as conn:
        queue = wire.events_queue()
        channel = conn.channel()
        queue(channel).declare()
        producer = Producer(channel, exchange=queue.exchange, routing_key=queue.routing_key)
        for m in range(messages):
            payloads = [make_payload(track, "play", f"fan-{m}-{i}") for i in range(per_message)]
            producer.publish(wire.events_body(payloads), **wire.PUBLISH_OPTIONS)

    supervisor = SupervisorProcess(
        tmp_path / "supervisor.log",
        MVSIC_WORKERS_MIN=1,
        MVSIC_WORKERS_MAX=3,
        MVSIC_WORKERS_MESSAGES_PER_WORKER=50,
        MVSIC_WORKERS_MAX_BACKLOG_SECONDS=2,
        MVSIC_WORKERS_DOWN_AFTER_SECONDS=2,
        MVSIC_WORKERS_POLL_SECONDS=0.3,
        # Small batches: each worker holds few messages, so the queue shows the backlog.
        MVSIC_EVENT_BATCH_SIZE=10,
        WORKER_CONCURRENCY=1,
    ).start()
    try:
        peak = wait_for(
            lambda: (p := pool()) is not None and p.workers >= 2 and p.workers,
            timeout=30,
            message="the supervisor did not add a worker for the backlog",
        )
        wait_for(
            lambda: TrackStats.objects.filter(track=track, plays=messages * per_message).exists(),
            timeout=120,
            message="the backlog was not counted",
        )
        wait_for(
            lambda: (p := pool()) is not None and p.workers == 1 and p.target == 1,
            timeout=60,
            message="the supervisor did not shrink back to the minimum",
        )
        assert peak >= 2
        assert pool().queue_depth == 0
        # A worker that dies is started again.
        (only,) = wait_for(
            lambda: len(children := pids_children(supervisor.proc.pid)) == 1 and children,
            timeout=30,
            message="the stopped workers did not exit",
        )
        os.kill(only, signal.SIGKILL)
        wait_for(
            lambda: (
                len(children := pids_children(supervisor.proc.pid)) == 1 and children[0] != only
            ),
            timeout=30,
            message="the dead worker was not replaced",
        )
    finally:
        supervisor.stop()
    log = (tmp_path / "supervisor.log").read_text()
    assert "started counting worker" in log and "stopping counting worker" in log
    # Stopped warmly: every worker gone with the supervisor, the pool at zero.
    assert pool().workers == 0
