"""Burst: ten times the sustained rate for 30 s, published to the events queue as the relay
publishes (up to 100 events per message), counted by one fixed worker and then by the elastic
supervisor (manage.py events_workers, 1 to the machine's cores, its default quiet period).
Reports the time from the end of the burst until every event is counted, the peak lag from
acceptance to counting, the most workers the supervisor ran and how long after the drain it
was back to one."""

import os
import time

from bench.broker import payloads_make
from bench.context import BIN, ROOT, log, retry
from bench.db import event_count, sql
from bench.procs import Proc, wait_consumers, workers_running
from bench.waits import settle, wait_count

BURST_SECONDS = 30.0
BURST_FACTOR = 10
TICK = 0.1


def run(args, mode, seed_info, results) -> None:
    sustained = (results.get("sustained") or {}).get("rate") or args.sustained_rate
    rate = sustained * BURST_FACTOR
    seconds = BURST_SECONDS if args.mode != "smoke" else 3.0
    burst = {"sustained_rate": sustained, "rate": rate, "seconds": seconds}
    with workers_running(args, 1) as (procs, _ready):
        burst["fixed"] = _burst(args, seed_info, procs, rate, seconds, pool=False)
    procs = [_elastic_start(args)]
    try:
        from django.conf import settings

        wait_consumers(settings.MVSIC_EVENTS_QUEUE, 1, procs)
        burst["elastic"] = _burst(args, seed_info, procs, rate, seconds, pool=True)
    finally:
        procs[0].stop(timeout=90)
    results["burst"] = burst


def _elastic_start(args) -> Proc:
    cores = os.cpu_count() or 1
    env = {
        "MVSIC_WORKERS_MIN": "1",
        "MVSIC_WORKERS_MAX": str(max(cores, 2)),
        "MVSIC_WORKERS_POLL_SECONDS": "1",
    }
    command = [str(BIN / "python"), str(ROOT / "manage.py"), "events_workers"]
    return Proc("elastic", command, args.run_dir / "elastic.log", env=env)


def _burst(args, seed_info, procs, rate: float, seconds: float, *, pool: bool) -> dict:
    from django.conf import settings

    from analytics.broker import BrokerPublisher
    from analytics.models import WorkerPool

    name = "elastic" if pool else "fixed"
    settle(procs)
    before = event_count()
    broker = BrokerPublisher(
        settings.CELERY_BROKER_URL,
        timeout=60,
        pause=1,
        per_message=settings.MVSIC_EVENTS_PER_MESSAGE,
    )
    log(f"burst ({name}): {rate:.0f} events/s for {seconds:.0f} s")
    started_wall = sql("SELECT now()", fetch=True)[0][0]
    started = time.monotonic()
    sent, peak_workers, owed, tick = 0, 0, 0.0, started
    while time.monotonic() < started + seconds:
        owed += rate * TICK
        n = int(owed)
        owed -= n
        if n:
            batch = payloads_make(n, seed_info["first_track"], seed_info["last_track"], fans=5000)
            retry("publishing", lambda batch=batch: broker.publish(batch))
            sent += n
        if pool:
            peak_workers = max(peak_workers, _workers(WorkerPool))
        tick += TICK
        time.sleep(max(0.0, tick - time.monotonic()))
    ended = time.monotonic()
    done = wait_count(before + sent, procs, timeout=args.drain_timeout)
    if pool:
        peak_workers = max(peak_workers, _workers(WorkerPool))
        back = _back_to_minimum(WorkerPool, since=done, timeout=args.drain_timeout)
    lag = sql(
        "SELECT extract(epoch FROM max(lag)),"
        " extract(epoch FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY lag))"
        " FROM (SELECT counted_at - received_at AS lag FROM analytics_event"
        " WHERE received_at >= %s) AS burst",
        [started_wall],
        fetch=True,
    )[0]
    result = {
        "sent": sent,
        "achieved_rate": sent / (ended - started),
        "drain_seconds": done - ended,
        "total_seconds": done - started,
        "lag_max_s": float(lag[0] or 0),
        "lag_p99_s": float(lag[1] or 0),
        "peak_workers": peak_workers if pool else 1,
    }
    if pool:
        result["back_to_minimum_s"] = back
    log(
        f"  sent {sent} ({result['achieved_rate']:.0f}/s); counted {result['drain_seconds']:.1f} s "
        f"after the burst; lag max {result['lag_max_s']:.1f} s, p99 {result['lag_p99_s']:.1f} s; "
        f"workers up to {result['peak_workers']}"
        + (f", back to one {back:.1f} s after the drain" if pool else "")
    )
    return result


def _back_to_minimum(model, *, since: float, timeout: float) -> float | None:
    """Seconds from `since` (every event counted) until the supervisor runs one worker again
    (its default quiet period, MVSIC_WORKERS_DOWN_AFTER_SECONDS); None if it never did."""
    deadline = since + timeout
    while time.monotonic() < deadline:
        if _workers(model) <= 1:
            return time.monotonic() - since
        time.sleep(TICK * 5)
    return None


def _workers(model) -> int:
    row = model.objects.order_by("-heartbeat_at").first()
    return row.workers if row else 0
