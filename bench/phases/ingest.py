"""Ingest: the capture endpoint against its baselines under closed-loop wrk, then one worker
counting what it accepted."""

import statistics

from bench.checks import counted_check, tally, tally_change
from bench.context import BATCH, log
from bench.load import add_counts, post_load
from bench.procs import workers_running
from bench.resources import cpu_delta, cpu_snapshot, memory_sum
from bench.waits import broker_settle, relay_tail, settle, wait_count

ENDPOINTS = [
    ("bare", "/bench/bare/", 1),
    ("durable", "/bench/durable/", 1),
    ("naive", "/bench/naive/", 1),
    ("events", "/api/v1/events/", 1),
    ("bare_batch", "/bench/bare/", BATCH),
    ("events_batch", "/api/v1/events/", BATCH),
]


def run(args, mode, seed_info, results) -> None:
    """The endpoints under load, then the events they accepted counted by one worker."""
    before = tally()
    accepted, sent = endpoints_load(args, mode, seed_info, results)
    results["memory"] = {"web": memory_sum(args.web.pid)}
    log(f"draining the {accepted} events accepted over HTTP (one worker)")
    d = drain_http(args, before, accepted, sent)
    results["http_drain"] = d
    log(
        f"  counted {d['counted']} of {d['sent']} sent ({d['accepted']} answered 202): "
        f"{d['credited']} credited, {d['filtered']} filtered {d['filtered_by_reason']}; "
        f"{d['rate']:.0f} ev/s; exact={d['exact']}"
    )


def endpoints_load(args, mode, seed_info, results) -> tuple[int, int]:
    """Closed-loop wrk against each endpoint, no worker running, in interleaved rounds (so
    drift on a shared machine hits every endpoint alike). Returns events (accepted, sent)."""
    log(f"ingest: the capture endpoint and its baselines, {mode['rounds']} rounds")
    accepted = sent = 0
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in ENDPOINTS}
    cpu: dict[str, dict[str, float]] = {name: {} for name, _, _ in ENDPOINTS}
    for round_ in range(mode["rounds"]):
        for name, path, per_request in ENDPOINTS:
            loads, used = _endpoint_run(args, mode, seed_info, path, per_request, round_ == 0)
            for role, seconds in used.items():
                cpu[name][role] = cpu[name].get(role, 0.0) + seconds
            if path.startswith("/api/"):
                for load in loads:
                    accepted += load["by_status"].get("202", 0) * per_request
                    # Requests in flight when wrk stops are served but never read by wrk.
                    sent += load["events_sent"]
            runs[name].append(loads[-1])
    ingest = {}
    for name, path, per_request in ENDPOINTS:
        ingest[name] = _summary(per_request, runs[name], cpu[name])
        _summary_log(name, path, ingest[name])
    results["ingest"] = ingest
    return accepted, sent


def _endpoint_run(args, mode, seed_info, path: str, per_request: int, warm: bool):
    """One timed wrk run (after a warm-up run when `warm`); returns the runs, warm-up first,
    and the CPU seconds by role the timed run used."""
    if warm:
        warm_up = post_load(args, path, mode["warmup"], per_request, seed_info)
        relay_tail()
        broker_settle()
    before = cpu_snapshot()
    load = post_load(args, path, mode["wrk_seconds"], per_request, seed_info)
    if path.startswith("/api/"):
        # A 202 means the events are in the spool: the run lasts until the relays have
        # handed them all to the broker. The broker's writing after that is charged
        # to this run's CPU, never to the next endpoint's run.
        load["relay_tail_us"] = round(relay_tail() * 1e6)
        load["duration_us"] += load["relay_tail_us"]
        load["rps"] = load["requests"] / (load["duration_us"] / 1e6)
        broker_settle()
    used = cpu_delta(before, cpu_snapshot())
    return ([warm_up, load] if warm else [load]), used


def _summary(per_request: int, rounds: list[dict], cpu: dict[str, float]) -> dict:
    seconds = sum(r["duration_us"] for r in rounds) / 1e6
    ok = sum(r["ok"] for r in rounds)
    return {
        "per_request": per_request,
        "rps": sum(r["requests"] for r in rounds) / seconds,
        "events_per_s": ok * per_request / seconds,
        "p50_us": statistics.median(r["p50_us"] for r in rounds),
        "p99_us": statistics.median(r["p99_us"] for r in rounds),
        "rps_rounds": [round(r["rps"]) for r in rounds],
        # Capture only: how long the relays took to hand over the rest after wrk stopped.
        "relay_tail_ms_rounds": [round(r.get("relay_tail_us", 0) / 1000) for r in rounds],
        # CPU milliseconds per request spent by each role (2 cores = 2000 ms per second).
        "cpu_ms_per_request": {
            role: round(1000 * sec / max(1, sum(r["requests"] for r in rounds)), 3)
            for role, sec in sorted(cpu.items())
        },
        "by_status": add_counts(r["by_status"] for r in rounds),
        "errors": [r["errors"] for r in rounds],
    }


def _summary_log(name: str, path: str, run: dict) -> None:
    log(
        f"  {name:13s} {run['rps']:8.0f} req/s  {run['events_per_s']:8.0f} events/s  "
        f"p50 {run['p50_us'] / 1000:6.1f} ms  p99 {run['p99_us'] / 1000:6.1f} ms  "
        f"rounds {run['rps_rounds']}  statuses {run['by_status']}"
    )
    if path.startswith("/api/"):
        log(f"      relay tail after wrk stopped (ms): {run['relay_tail_ms_rounds']}")
    log(f"      CPU ms per request: {run['cpu_ms_per_request']}")


def drain_http(args, before: dict, accepted: int, sent: int) -> dict:
    """Count what the ingest phase accepted. wrk stops with requests in flight (served, never
    read), so the stored events must land between the 202s it read and the events it
    generated; each credited or filtered."""
    with workers_running(args, 1) as (procs, ready):
        wait_count(before["events"] + accepted, procs, timeout=args.drain_timeout)
        done = settle(procs)
    check = counted_check(tally_change(before, tally()), accepted, sent=sent)
    return {
        "accepted": accepted,
        "sent": sent,
        **check,
        "seconds": done - ready,
        "rate": check["counted"] / (done - ready),
    }
