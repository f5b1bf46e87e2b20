"""What every part of one benchmark run shares: paths, sizes, the log, the environment set
by `configure`, and the run's mutable state (processes started, services interrupted)."""

import contextlib
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
RESULTS = BENCH / "results"

ARTISTS = 5
TRACKS_PER_ARTIST = 20
MARKER_TRACKS = 3
WRK_THREADS = 2
WRK_CONNECTIONS = 16
BATCH = 50
DATABASE_PORT = 5432  # the machine's server; bench/postgres.py starts others

LIVE: dict[int, str] = {}  # pid of each process this run started -> its role (for CPU shares)
LOADERS: set[int] = set()  # open-loop sender processes
INTERRUPTIONS: list[str] = []  # services that went away during the current phase


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def configure(args) -> None:
    """Environment for this process and every process it starts (one tag, own queues)."""
    tag = args.tag
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{DATABASE_PORT}/{args.db}",
        MVSIC_EVENTS_QUEUE=f"mvsic.{tag}.events",
        MVSIC_DEFAULT_QUEUE=f"mvsic.{tag}.default",
        MVSIC_BENCH_NOOP_QUEUE=f"mvsic.{tag}.noop",
        MVSIC_SPOOL_DIR=f"/tmp/mvsic-{tag}-spool",
        MVSIC_BENCH_DURABLE_DIR=f"/tmp/mvsic-{tag}-durable",
        MVSIC_MEDIA_ROOT=f"/tmp/mvsic-{tag}-media",
        PORT=str(args.port),
        GUNICORN_ACCESS_LOG=str(args.run_dir / "access.log"),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )


def database_url(*, db: str | None = None, port: int | None = None) -> str:
    """The URL the bench uses now (DATABASE_URL), with another database or port."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    netloc = f"{parts.username}@{parts.hostname}:{port or parts.port or DATABASE_PORT}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{db}" if db else parts.path))


def database_port() -> int:
    return urlsplit(os.environ["DATABASE_URL"]).port or DATABASE_PORT


def retry(what: str, fn, *, attempts: int = 30, pause: float = 5.0):
    """Run fn, waiting out a database or broker that went away (fault tests share them)."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            INTERRUPTIONS.append(f"{what}: {type(exc).__name__}")
            if attempt == attempts:
                raise
            log(f"{what} failed ({type(exc).__name__}: {exc}); retrying in {pause:.0f}s")
            time.sleep(pause)
            with contextlib.suppress(Exception):
                from django.db import connection

                connection.close()
