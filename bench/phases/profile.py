"""Profile (`--profile`, or `--only profile`): py-spy on the gunicorn workers under
single-event load and under arrays of 50, then on a worker counting events; where the
samples went, overall and within the production functions that WEB_PARTS and WORKER_PARTS
name (they change when those functions are renamed or moved).
"""

import re
import shutil
import subprocess
from pathlib import Path

from bench.broker import publish
from bench.context import BATCH, BIN, log
from bench.db import event_count
from bench.load import post_load
from bench.procs import process_tree, workers_running
from bench.waits import settle, wait_count

# Root frames of a profile, each with the frames below it whose share of the root is reported.
WEB_PARTS = {
    "events_capture (analytics/api/events.py)": [
        "BoundedJSONParser.parse (analytics/api/events.py)",
        "event_validate (analytics/validation.py)",
        "track_ids_existing (analytics/services/capture.py)",
        "Spool.append (analytics/spool.py)",
        "Spool._sync (analytics/spool.py)",
        "BrokerPublisher.publish (analytics/broker.py)",
        "_json_response (analytics/api/events.py)",
    ],
    "Relay._run (analytics/relay.py)": [
        "Spool.take_open (analytics/spool.py)",
        "Spool.segments (analytics/spool.py)",
        "BrokerPublisher.publish (analytics/broker.py)",
    ],
    "BrokerPublisher._run (analytics/broker.py)": [
        "Producer.publish (kombu/messaging.py)",
        "Channel._basic_publish (amqp/channel.py)",
        "Connection.drain_events (kombu/connection.py)",
        "Condition.wait (threading.py)",
    ],
    "ThreadWorker.handle (gunicorn/workers/gthread.py)": [
        "WSGIHandler.__call__ (django/core/handlers/wsgi.py)",
        "EventCaptureMiddleware.__call__ (analytics/middleware.py)",
        "events_capture (analytics/api/events.py)",
    ],
}
WORKER_PARTS = {
    "Consumer.start (celery/worker/consumer/consumer.py)": [
        "EventBatchConsumer.flush (analytics/consumer.py)",
        "EventBatchConsumer.on_message (analytics/consumer.py)",
        "Consumer._receive_callback (kombu/messaging.py)",
        "EpollSelector.poll (kombu/utils/eventio.py)",
    ],
    "events_count (analytics/services/counting.py)": [
        "payload_parse (analytics/payloads.py)",
        "_stats_lock (analytics/services/counting.py)",
        "insert_on_conflict (analytics/upsert.py)",
        "counters_apply (analytics/services/counters.py)",
        "rollups_count (analytics/services/rollups.py)",
        "limits_apply (analytics/services/limits.py)",
        "Atomic.__exit__ (django/db/transaction.py)",
        "CursorWrapper._execute (django/db/backends/utils.py)",
    ],
}


def run(args, mode, seed_info, results) -> None:
    """py-spy the gunicorn workers under single-event load, then a worker counting events."""
    spy = shutil.which("py-spy") or (BIN / "py-spy" if (BIN / "py-spy").exists() else None)
    if not spy:
        log("profile: py-spy is not installed (pip install py-spy); skipped")
        return
    seconds = max(5, mode["wrk_seconds"] // 2)
    web_pids = [p for p in process_tree(args.web.pid) if p != args.web.pid]
    spies = spy_start(args, spy, web_pids, seconds, "web")
    before = event_count()
    run = post_load(args, "/api/v1/events/", seconds, 1, seed_info)
    spies_wait(spies)
    web = profile_summary(args.run_dir, "web")
    # The same for arrays of 50 events: where a batched request's time goes.
    spies = spy_start(args, spy, web_pids, seconds, "webbatch")
    batch_run = post_load(args, "/api/v1/events/", seconds, BATCH, seed_info)
    spies_wait(spies)
    web_batch = profile_summary(args.run_dir, "webbatch")
    web_batch["breakdown"] = profile_breakdown(args.run_dir, "webbatch", WEB_PARTS)
    # At least the 202s wrk read; settle() then waits for any in flight when it stopped.
    accepted = run["by_status"].get("202", 0) + batch_run["by_status"].get("202", 0) * BATCH
    n = max(mode["pipeline_events"], 20_000)
    publish(n, seed_info)
    with workers_running(args, 1) as (procs, _ready):
        spies = spy_start(args, spy, [procs[0].pid], seconds, "worker")
        wait_count(before + accepted + n, procs, timeout=args.drain_timeout)
        settle(procs)
        spies_wait(spies)
    worker = profile_summary(args.run_dir, "worker")
    web["breakdown"] = profile_breakdown(args.run_dir, "web", WEB_PARTS)
    worker["breakdown"] = profile_breakdown(args.run_dir, "worker", WORKER_PARTS)
    results["profile"] = {
        "web": web,
        "web_batch": web_batch,
        "worker": worker,
        "files": str(args.run_dir),
    }
    for label, summary in (("web", web), ("web, arrays of 50", web_batch), ("worker", worker)):
        breakdown_log(label, summary)


def spy_start(args, spy, pids: list[int], seconds: float, name: str) -> list[subprocess.Popen]:
    """py-spy recording each of the pids for `seconds`, to profile-<name>-<pid>.txt."""
    spies = []
    for pid in pids:
        out = args.run_dir / f"profile-{name}-{pid}.txt"
        command = [
            str(spy), "record", "-p", str(pid), "-d", str(int(seconds)), "-f", "raw",
            "-o", str(out), "-r", "200", "--nonblocking",
        ]  # fmt: skip
        spies.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
    return spies


def spies_wait(spies: list[subprocess.Popen]) -> None:
    for spy in spies:
        spy.wait(timeout=60)


def _samples(run_dir: Path, name: str):
    """(frames, count) of every stack py-spy recorded under `name`, line numbers dropped."""
    for path in run_dir.glob(f"profile-{name}-*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if count.isdigit():
                yield [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")], int(count)


def profile_summary(run_dir: Path, name: str, top: int = 25) -> dict:
    """Inclusive and self shares of samples per function, over all profiled processes."""
    total = 0
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    for frames, n in _samples(run_dir, name):
        total += n
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
        own[frames[-1]] = own.get(frames[-1], 0) + n

    def shares(counts: dict[str, int]) -> list[tuple[str, float]]:
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        return [(frame, round(n / total, 3)) for frame, n in ranked[:top]] if total else []

    return {"samples": total, "inclusive": shares(inclusive), "self": shares(own)}


def profile_breakdown(run_dir: Path, name: str, parts: dict[str, list[str]]) -> dict:
    """For each root frame: its share of all samples, and each part's share of the root's."""
    totals = {root: 0 for root in parts}
    hits = {root: dict.fromkeys(children, 0) for root, children in parts.items()}
    total = 0
    for frames, n in _samples(run_dir, name):
        total += n
        for root, children in parts.items():
            if root in frames:
                below = frames[frames.index(root) + 1 :]
                totals[root] += n
                for child in children:
                    if child in below:
                        hits[root][child] += n
    return {
        root: {
            "share_of_samples": round(totals[root] / total, 3) if total else 0,
            **{c: round(h / totals[root], 3) if totals[root] else 0 for c, h in hits[root].items()},
        }
        for root in parts
    }


def breakdown_log(label: str, summary: dict) -> None:
    log(f"profile {label}: {summary['samples']} samples; inclusive share:")
    for root, shares in summary["breakdown"].items():
        log(f"  {root}: {shares['share_of_samples']:.1%} of samples; of which")
        for part, share in shares.items():
            if part != "share_of_samples":
                log(f"    {share:6.1%}  {part}")
