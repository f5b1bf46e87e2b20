"""The event pipeline benchmark: `make bench` (full), `make bench BENCH_ARGS=--quick`, `--smoke`.

Everything runs on this machine, side by side in one run, and is reported as ratios against
baselines measured in the same run (the machine is small and shared):

1. ingest     POST /api/v1/events/ vs a bare DRF view (ceiling) and a naive synchronous
              UPDATE view, one gunicorn configuration for all; plus arrays of 50 events.
2. pipeline   events published straight to the queue, then counted by 1, 2, 4 worker
              processes, vs Celery draining as many no-op tasks with the same concurrency.
3. freshness  lag from a 202 to the stats API showing the event, under open-loop load at
              50% and 90% of the highest rate the whole pipeline sustains here.
4. history    dashboard and stats API time with 10 thousand and 10 million stored events.
   settings   one worker's counting on an empty store and on the large history, on servers of
              the bench's own with PostgreSQL's stock and tuned settings; disk per event.
5. catalog    fan pages' rate with the demo catalog and with 10,000 artists, 100,000 tracks
              and 10 million events.
6. memory     peak RSS of web and worker processes; worker RSS before and after a soak.
7. burst      (only with --only burst) ten times the sustained rate for 30 s straight to the
              queue: drain time and peak lag with one fixed worker and with the elastic
              supervisor (manage.py events_workers).

The bench sends events as a server-side client with an ingest key, for random fans
(bench/fans.py), and checks every count (bench/checks.py): each accepted event stored once,
each stored one credited or filtered, the filtered ones reported by reason.

Prints one table and writes bench/results/<timestamp>.json and bench/results/latest.json.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# As a script (`python bench/run.py`) Python puts bench/ first on the path: the repository root
# goes before it, so that `bench` is this package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.broker import queues_delete, queues_purge
from bench.checks import exactness
from bench.context import (
    INTERRUPTIONS,
    RESULTS,
    WRK_CONNECTIONS,
    WRK_THREADS,
    configure,
    log,
    retry,
)
from bench.db import analytics_reset, database_prepare, seed
from bench.load import wrk_ensure
from bench.machine import machine
from bench.phases import (
    burst,
    catalog,
    freshness,
    history,
    ingest,
    micro,
    pipeline,
    profile,
    settings,
    soak,
    upload,
)
from bench.procs import free_port, web_start
from bench.report import table
from bench.resources import memory_sum

MODES = {
    # seconds of each wrk run, events per pipeline run, soak events, history events, ...
    # (warm_seconds: each page's warm-up before it is timed; selector_calls: rounds and calls
    # per round of the in-process selector timings; the smoke run times nothing that means
    # anything, so it runs everything once, for the least time wrk takes, and warms nothing)
    "smoke": dict(
        wrk_seconds=1, warmup=1, rounds=1, pipeline_events=300, soak_events=300, history=(200, 0),
        fresh_seconds=4, get_seconds=1, warm_seconds=0, workers=[1], sustained_seconds=3,
        catalog=(50, 500, 12_000), settings_events=300, selector_calls=(1, 2),
    ),
    "quick": dict(
        wrk_seconds=3, warmup=1, rounds=2, pipeline_events=5_000, soak_events=10_000,
        history=(10_000, 100_000), fresh_seconds=5, get_seconds=3, warm_seconds=2,
        workers=[1, 2], sustained_seconds=4, catalog=(1_000, 10_000, 200_000),
        settings_events=20_000, selector_calls=(5, 20),
    ),
    "full": dict(
        wrk_seconds=8, warmup=3, rounds=4, pipeline_events=40_000, soak_events=1_000_000,
        history=(10_000, 10_000_000), fresh_seconds=30, get_seconds=15, warm_seconds=2,
        workers=[1, 2, 4], sustained_seconds=20, catalog=(10_000, 100_000, 10_000_000),
        settings_events=40_000, selector_calls=(5, 20),
    ),
}  # fmt: skip

# In the order they run; `--only` and `--profile` choose among them.
PHASES = [
    ("micro", micro.run),
    ("ingest", ingest.run),
    ("profile", profile.run),
    ("freshness", freshness.run),
    ("burst", burst.run),
    ("pipeline", pipeline.run),
    ("soak", soak.run),
    ("history", history.run),
    ("settings", settings.run),
    ("catalog", catalog.run),
    ("upload", upload.run),
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", dest="mode", const="quick")
    mode.add_argument("--smoke", action="store_const", dest="mode", const="smoke")
    parser.set_defaults(mode="full")
    parser.add_argument("--db", default="mvsic_bench", help="PostgreSQL database (recreated data)")
    parser.add_argument("--tag", default="bench", help="queue and spool names: mvsic.<tag>.*")
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (0: a free one)")
    parser.add_argument("--web-workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument("--web-threads", type=int, default=8, help="WEB_THREADS")
    parser.add_argument(
        "--workers", type=lambda s: [int(x) for x in s.split(",")], default=None,
        help="worker process counts for the pipeline measurement, e.g. 1,2,4",
    )  # fmt: skip
    parser.add_argument("--fresh-workers", type=int, default=1, help="workers for freshness")
    parser.add_argument(
        "--sustained-rate", type=float, default=1080.0,
        help="events/s the burst phase multiplies by 10 without freshness (the latest full run's)",
    )  # fmt: skip
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated phases: ingest,pipeline,freshness,burst,soak,history,settings,"
        "catalog,upload (burst runs only when named; settings only when named or in a full run)",
    )
    parser.add_argument("--rounds", type=int, default=None, help="interleaved ingest rounds")
    parser.add_argument("--soak-events", type=int, default=None)
    parser.add_argument("--history-events", type=int, default=None, help="the large history")
    parser.add_argument("--no-pipeline-at-history", dest="pipeline_at_history",
                        action="store_false")  # fmt: skip
    parser.add_argument(
        "--postgres-settings", type=lambda s: s.split(","), default=["stock", "tuned"],
        help="the settings phase's servers: stock,tuned (deploy/postgresql/mvsic.conf)",
    )  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="py-spy the web and worker")
    parser.add_argument(
        "--drain-timeout", type=float, default=300, help="seconds a count may stand still"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--report", type=Path, default=None, help="print the table of a result")
    return parser.parse_args(argv)


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    args = parse_args(argv)
    if args.report:
        print(table(json.loads(args.report.read_text()))[0])
        return 0
    mode = mode_of(args)
    phases = set(args.only.split(",")) if args.only else {
        "micro", "ingest", "pipeline", "freshness", "soak", "history", "catalog", "upload",
        *(("settings",) if args.mode == "full" else ()),
    }  # fmt: skip
    if args.profile:
        phases.add("profile")
    stamp = run_prepare(args)
    results: dict = {
        "mode": args.mode,
        "started": stamp,
        "machine": machine(),
        "config": {
            "web_workers": args.web_workers,
            "web_threads": args.web_threads,
            "wrk": f"-t{WRK_THREADS} -c{WRK_CONNECTIONS}",
            **{k: v for k, v in mode.items() if k != "history"},
            "history": list(mode["history"]),
        },
    }
    phases_run(args, mode, phases, results)
    return results_write(args, results, stamp)


def mode_of(args) -> dict:
    """The sizes of this run: those of --quick, --smoke or the full run, with overrides."""
    mode = dict(MODES[args.mode])
    if args.rounds is not None:
        mode["rounds"] = args.rounds
    if args.soak_events is not None:
        mode["soak_events"] = args.soak_events
    if args.history_events is not None:
        mode["history"] = (mode["history"][0], args.history_events)
    return mode


def run_prepare(args) -> str:
    """Log directory, port, wrk, environment and database of this run; returns its stamp."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    args.run_dir = Path(f"/tmp/mvsic-{args.tag}-{stamp}")
    args.run_dir.mkdir(parents=True)
    args.port = args.port or free_port()
    args.wrk = wrk_ensure()
    configure(args)
    log(f"mode {args.mode}; database {args.db}; logs in {args.run_dir}")
    database_prepare(args)
    return stamp


def phases_run(args, mode, phases: set[str], results: dict) -> None:
    """Empty data and queues, seed, start gunicorn, run the chosen phases in order (a phase
    that fails is reported and the next one runs), stop gunicorn."""
    for directory in ("MVSIC_SPOOL_DIR", "MVSIC_BENCH_DURABLE_DIR"):
        shutil.rmtree(os.environ[directory], ignore_errors=True)
    analytics_reset()
    queues_delete()  # declared afresh: a queue left by an older release may have other arguments
    queues_purge()
    seed_info = seed()
    started = time.monotonic()
    args.web = web_start(args)
    try:
        for name, phase in PHASES:
            if name not in phases:
                continue
            INTERRUPTIONS.clear()
            try:
                phase(args, mode, seed_info, results)
            except Exception as exc:
                # A service another test stopped, say: report it, clean up, go on.
                log(f"phase {name} failed: {type(exc).__name__}: {exc}")
                results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
                retry("purging after a failed phase", queues_purge)
            if INTERRUPTIONS:
                results.setdefault("interruptions", {})[name] = list(INTERRUPTIONS)
            if name == "soak":
                results.setdefault("memory", {})["web"] = memory_sum(args.web.pid)
    finally:
        args.web.stop()  # the history phase restarts it
        shutil.rmtree(os.environ["MVSIC_BENCH_DURABLE_DIR"], ignore_errors=True)
        results["seconds"] = time.monotonic() - started
        with contextlib.suppress(Exception):
            queues_delete()


def results_write(args, results: dict, stamp: str) -> int:
    """Add the table, targets and checks to the results, write them, print the table; the exit
    status is 0 when every count was exact and no phase failed."""
    text, targets = table(results)
    results["targets"] = targets
    results["exact"] = exactness(results)
    results["table"] = text
    # A smoke run with --json keeps bench/results/ for real runs.
    keep = not (args.mode == "smoke" and args.json)
    paths = [RESULTS / f"{stamp}.json", RESULTS / "latest.json"] if keep else []
    for path in [*paths, args.json]:
        if path:
            path.write_text(json.dumps(results, indent=2, default=str))
    print()
    print(text)
    print(f"\nresults: {(paths or [args.json])[0]} ({results['seconds'] / 60:.1f} min)")
    return 0 if all(results["exact"].values()) and not results.get("errors") else 1


if __name__ == "__main__":
    sys.exit(main())
