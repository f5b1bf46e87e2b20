"""Waiting for the pipeline to catch up: stored events reaching a count, the queue and the count
settling, the web processes' spool relayed, the broker done writing."""

import os
import time
from pathlib import Path

from bench.broker import queue_depth
from bench.db import event_count
from bench.procs import Proc, check_all, workers_running
from bench.resources import role_cpu


def wait_count(expected: int, procs: list[Proc], *, timeout: float, marks=None) -> float:
    """Poll the stored event count until it reaches `expected`; fail once it has not moved
    for `timeout` seconds. Records when it passed each count in `marks` (count -> time)."""
    stalled_since = time.monotonic()
    last = -1
    while time.monotonic() - stalled_since < timeout:
        check_all(procs)
        asked = time.monotonic()
        now_count = event_count()
        now = time.monotonic()
        if marks is not None:
            for mark in marks:
                if marks[mark] is None and now_count >= mark:
                    marks[mark] = now
        if now_count >= expected:
            return now
        if now_count != last:
            last, stalled_since = now_count, now
        # Polls take at most a tenth of PostgreSQL's time from the workers being timed.
        time.sleep(max(0.05, 10 * (now - asked)))
    raise RuntimeError(f"events stuck at {last} of {expected}: no progress for {timeout:.0f}s")


def drain(args, expected: int) -> float:
    """Start one batch worker, wait until `expected` events are stored, stop it; returns the
    seconds from its attaching to the last of them stored."""
    with workers_running(args, 1) as (procs, ready):
        done = wait_count(expected, procs, timeout=args.drain_timeout)
    return done - ready


def settle(procs: list[Proc], quiet: float = 1.0) -> float:
    """Wait until the events queue is empty and the count has not moved for `quiet` seconds;
    returns when the count last moved."""
    from django.conf import settings

    last, moved = event_count(), time.monotonic()
    while time.monotonic() - moved < quiet or queue_depth(settings.MVSIC_EVENTS_QUEUE):
        check_all(procs)
        time.sleep(0.1)
        current = event_count()
        if current != last:
            last, moved = current, time.monotonic()
    return moved


def relay_tail(timeout: float = 300) -> float:
    """Wait until the web processes' relays left the spool empty; returns the seconds."""
    spool = Path(os.environ["MVSIC_SPOOL_DIR"])
    started = time.monotonic()
    while any(spool.glob("*.jsonl")):
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the spool {spool} was not relayed in {timeout:.0f} s")
        time.sleep(0.01)
    return time.monotonic() - started


def broker_settle(limit: float = 30) -> None:
    """Wait until RabbitMQ has written away what it was given (under 10% of a core for 0.5 s)."""
    busy, started = role_cpu("rabbitmq"), time.monotonic()
    while time.monotonic() - started < limit:
        time.sleep(0.5)
        now = role_cpu("rabbitmq")
        if now - busy < 0.05:
            return
        busy = now
