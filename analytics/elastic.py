"""Elastic counting on one host: a supervisor that runs between MVSIC_WORKERS_MIN and
MVSIC_WORKERS_MAX `celery worker --event-batches` processes, sized by the events queue.

Counting happens in each worker's main process (analytics.consumer), so Celery's
`--autoscale`, which sizes the pool, cannot add counting: whole processes must be added.
Every MVSIC_WORKERS_POLL_SECONDS the supervisor reads the queue's depth (a passive declare:
ready messages, not those a worker holds) and the backlog's age, the time since the queue was
last seen empty: every waiting message arrived after that, so it bounds the age of the oldest
one. (Peeking at the head message would be exact but each peek is a delivery, which a quorum
queue may count toward MVSIC_DELIVERY_LIMIT.) It scales up at once, down one process at a time
after MVSIC_WORKERS_DOWN_AFTER_SECONDS of less need, stops a process with SIGTERM (Celery's
warm shutdown: the batch in hand is committed and acknowledged), restarts one that died, and
records a heartbeat in WorkerPool for the pipeline health page.
"""

import logging
import math
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Connection

from analytics import wire
from analytics.models import WorkerPool

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    minimum: int
    maximum: int
    messages_per_worker: int  # waiting messages one worker is expected to absorb
    max_backlog_seconds: float  # a backlog older than this adds a worker even if shallow
    down_after_seconds: float  # how long less need must last before one worker stops

    @classmethod
    def from_settings(cls) -> "Policy":
        return cls(
            minimum=settings.MVSIC_WORKERS_MIN,
            maximum=settings.MVSIC_WORKERS_MAX,
            messages_per_worker=settings.MVSIC_WORKERS_MESSAGES_PER_WORKER,
            max_backlog_seconds=settings.MVSIC_WORKERS_MAX_BACKLOG_SECONDS,
            down_after_seconds=settings.MVSIC_WORKERS_DOWN_AFTER_SECONDS,
        )


def workers_wanted(*, policy: Policy, current: int, depth: int, backlog_seconds: float) -> int:
    """The workers the queue asks for now, within the policy's bounds: one per
    messages_per_worker waiting, and one more than now while a backlog is older than
    max_backlog_seconds (the workers there are not keeping up, however shallow it is)."""
    wanted = math.ceil(depth / policy.messages_per_worker)
    if depth and backlog_seconds >= policy.max_backlog_seconds:
        wanted = max(wanted, current + 1)
    return min(max(wanted, policy.minimum), policy.maximum)


def workers_target(*, policy: Policy, current: int, wanted: int, low_for_seconds: float) -> int:
    """The next size: up to `wanted` at once; down by one only once fewer were wanted for
    down_after_seconds (the caller restarts that clock after each step down)."""
    current = min(max(current, policy.minimum), policy.maximum)
    if wanted > current:
        return wanted
    if wanted < current and low_for_seconds >= policy.down_after_seconds:
        return current - 1
    return current


def queue_depth() -> int:
    """Ready messages on the events queue."""
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        channel = conn.channel()
        _, depth, _ = wire.events_queue()(channel).queue_declare(passive=True)
        channel.close()
    return depth


def worker_command(name: str) -> list[str]:
    return [
        os.path.join(os.path.dirname(sys.executable), "celery"),
        "-A",
        "mvsic",
        "worker",
        "--event-batches",
        "--queues",
        settings.MVSIC_DEFAULT_QUEUE,
        "--concurrency",
        str(settings.WORKER_CONCURRENCY),
        "--hostname",
        f"{name}@%h",
        "--loglevel",
        os.environ.get("LOG_LEVEL", "INFO"),  # as the Procfile's other processes
    ]


class Supervisor:
    """Runs the counting workers of this host (see the module's docstring)."""

    def __init__(self, *, policy: Policy, host: str | None = None, poll_seconds: float = 2.0):
        self.policy = policy
        self.host = host or socket.gethostname()
        self.poll_seconds = poll_seconds
        self.workers: dict[str, subprocess.Popen] = {}  # name -> process, oldest first
        self.stopping: list[subprocess.Popen] = []
        self.empty_at = time.monotonic()  # when the queue was last seen empty
        self.low_since: float | None = None
        self.running = True
        self.serial = 0

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            while self.running:
                self.step()
                time.sleep(self.poll_seconds)
        finally:
            self.shutdown()

    def _on_signal(self, signum, frame) -> None:
        self.running = False

    def step(self) -> int:
        """One round: restart the dead, read the queue, scale; returns the target."""
        self._reap()
        now = time.monotonic()
        try:
            depth = queue_depth()
        except Exception as exc:  # the broker is away: keep what runs, try again next round
            logger.warning("events queue depth unavailable: %s", exc)
            depth = None
        if not depth:
            self.empty_at = now
        backlog = now - self.empty_at
        current = len(self.workers)
        if depth is None:
            target = min(max(current, self.policy.minimum), self.policy.maximum)
        else:
            wanted = workers_wanted(
                policy=self.policy, current=current, depth=depth, backlog_seconds=backlog
            )
            self.low_since = (self.low_since or now) if wanted < current else None
            low_for = now - self.low_since if self.low_since is not None else 0.0
            target = workers_target(
                policy=self.policy, current=current, wanted=wanted, low_for_seconds=low_for
            )
            if target < current:
                self.low_since = now  # the next step down waits a full period again
        self._resize(target)
        self._heartbeat(target=target, depth=depth, backlog=backlog)
        return target

    def _reap(self) -> None:
        for name, proc in list(self.workers.items()):
            if proc.poll() is not None:
                logger.warning(
                    "counting worker %s exited with %s: restarting", name, proc.returncode
                )
                self.workers[name] = self._spawn(name)
        self.stopping = [p for p in self.stopping if p.poll() is None]

    def _spawn(self, name: str) -> subprocess.Popen:
        return subprocess.Popen(worker_command(name), cwd=settings.BASE_DIR)

    def _resize(self, target: int) -> None:
        while len(self.workers) < target:
            self.serial += 1
            name = f"events{self.serial}-{os.getpid()}"  # unique beside another supervisor
            self.workers[name] = self._spawn(name)
            logger.info("started counting worker %s (%d running)", name, len(self.workers))
        while len(self.workers) > target:
            name = next(reversed(self.workers))  # the newest
            proc = self.workers.pop(name)
            proc.send_signal(signal.SIGTERM)  # warm shutdown
            self.stopping.append(proc)
            logger.info("stopping counting worker %s (%d running)", name, len(self.workers))

    def _heartbeat(self, *, target: int, depth: int | None, backlog: float) -> None:
        try:
            WorkerPool.objects.update_or_create(
                host=self.host,
                defaults={
                    "workers": len(self.workers),
                    "target": target,
                    "queue_depth": depth,
                    "backlog_seconds": backlog,
                    "heartbeat_at": timezone.now(),
                },
            )
        except Exception as exc:  # the database is away: the workers wait it out too
            logger.warning("worker pool heartbeat not written: %s", exc)
            connection.close()

    def shutdown(self, timeout: float = 60.0) -> None:
        """Warm-stop every worker, then wait for them (killing any still there at timeout)."""
        self._resize(0)
        deadline = time.monotonic() + timeout
        for proc in self.stopping:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.stopping = []
        self._heartbeat(target=0, depth=None, backlog=0.0)
