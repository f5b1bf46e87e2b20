"""Shared fixtures: factories, a real Celery worker and HTTP clients for the live server."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from mvsic.models import Artist, Track

ROOT = Path(__file__).resolve().parent.parent
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
PLAY_SECONDS = 35.0  # a qualified play of the factories' 40-second tracks


@pytest.fixture(autouse=True)
def _integrity_caches_clear():
    """Each test starts with empty per-process caches: rate buckets, checked ingest keys,
    the day's address key, user agents, blocks and closed breakdown floors."""
    from analytics import addresses, clients, ratelimit
    from analytics.services import integrity, rollups

    for cache in (
        ratelimit.local,
        clients.key_cache,
        addresses.keys,
        integrity.agent_cache,
        rollups.closed_floors,
    ):
        cache.clear()
    integrity.lists_changed()
    # Django's cache too (the home page's cached parts, a shared rate limit).
    from django.core.cache import cache as django_cache

    django_cache.clear()


# --- factories -------------------------------------------------------------------------------
def make_user(username: str = "", password: str = "pw-secret-1", perms=(), **extra):
    """A user; `perms` are "app.codename" permissions to grant."""
    from django.contrib.auth.models import Permission

    username = username or f"user-{uuid.uuid4().hex[:8]}"
    user = get_user_model().objects.create_user(username=username, password=password, **extra)
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    return user


def make_overseer(perms=(), **extra):
    """A staff member who may see every artist (mvsic.view_all_artists), not a superuser."""
    return make_user(is_staff=True, perms=["mvsic.view_all_artists", *perms], **extra)


def make_artist(name: str = "", members=()) -> Artist:
    name = name or f"Artist {uuid.uuid4().hex[:6]}"
    artist = Artist.objects.create(name=name, slug=name.lower().replace(" ", "-"))
    artist.members.add(*members)
    return artist


def make_track(artist: Artist | None = None, title: str = "", duration: float = 40.0) -> Track:
    artist = artist or make_artist()
    return Track.objects.create(
        artist=artist,
        title=title or f"Track {uuid.uuid4().hex[:6]}",
        duration=duration,
        audio="tracks/none.wav",
    )


def make_event(track, type: str = "play", listener: str = "fan-1", **extra) -> dict:
    """An event as a client sends it to the API (a play of PLAY_SECONDS by default)."""
    event = {"id": str(uuid.uuid4()), "type": type, "track": getattr(track, "id", track)}
    if listener is not None:
        event["listener"] = listener
    if type == "play":
        event["seconds"] = PLAY_SECONDS
    event.update(extra)
    return event


def make_ingest_key(name: str = "") -> str:
    """A new ingest key (what `manage.py ingest_key create` prints)."""
    from analytics.services.ingest_keys import ingest_key_create

    return ingest_key_create(name=name or f"client-{uuid.uuid4().hex[:8]}")[1]


def make_payload(track, type: str = "play", listener: str = "fan-1", **extra) -> dict:
    """An event as the API queues it for a worker."""
    now = timezone.now().isoformat()
    payload = {
        "id": str(uuid.uuid4()),
        "type": type,
        "track": getattr(track, "id", track),
        "listener": listener,
        "ts": now,
        "received_at": now,
        "seconds": PLAY_SECONDS if type == "play" else None,
        "source": "",
        "address": "",
        "ua": BROWSER_UA,
    }
    payload.update(extra)
    return payload


# --- real processes --------------------------------------------------------------------------
def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def process_env(**extra) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="mvsic.test_settings",
        DATABASE_URL=database_url(),
        MVSIC_EVENTS_QUEUE=settings.MVSIC_EVENTS_QUEUE,
        MVSIC_DEFAULT_QUEUE=settings.MVSIC_DEFAULT_QUEUE,
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


class ManagedProcess:
    """A real process in a session of its own, logging to a file, started and killed by tests."""

    name = "process"

    def __init__(self, log_path: Path, **env):
        self.log_path = log_path
        self.env = env
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def process_env(self) -> dict:
        return process_env(**self.env)

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self):
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            self.command(),
            cwd=ROOT, env=self.process_env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
            if self.ready():
                return self
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready: {self.log_path.read_text()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group at once (kill -9 of the process and its children)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)
            deadline = time.monotonic() + 10  # the children are gone with the group
            while time.monotonic() < deadline and _group_alive(self.proc.pid):
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class WorkerProcess(ManagedProcess):
    """A real `celery worker --event-batches` on the real broker and the test database, as
    the Procfile runs it (`app` names another Celery app module, for a fault test)."""

    name = "worker"

    def __init__(self, log_path: Path, concurrency: int = 2, app: str = "mvsic", **env):
        super().__init__(log_path, **env)
        self.concurrency = concurrency
        self.app = app

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", self.app, "worker", "--event-batches",
            "--loglevel", "INFO", "--concurrency", str(self.concurrency),
            "--queues", settings.MVSIC_DEFAULT_QUEUE, "--without-mingle", "--without-gossip",
            "--hostname", f"test-{uuid.uuid4().hex[:6]}@%h",
        ]  # fmt: skip

    def ready(self) -> bool:
        return b" ready." in self.log_path.read_bytes()


def run_queues() -> list:
    """This run's queues: the events queue and Celery's task queues."""
    from analytics.wire import events_queue
    from mvsic.celery import app

    return [events_queue(), *app.conf.task_queues]


def queues_purge() -> None:
    from mvsic.celery import app

    with app.connection_for_write() as conn:
        for queue in run_queues():
            bound = queue(conn.default_channel)
            bound.declare()
            bound.purge()


def queues_delete() -> None:
    from mvsic.celery import app

    with app.connection_for_write() as conn:
        for queue in run_queues():
            queue(conn.default_channel).delete()
            queue.exchange(conn.default_channel).delete()


@pytest.fixture(scope="session")
def broker_queues():
    queues_purge()
    yield
    # The broker may be down after a fault test; nothing to clean then.
    with contextlib.suppress(Exception):
        queues_delete()


@contextlib.contextmanager
def worker_running(log_path: Path, **env):
    """A real worker on queues that start empty (events earlier tests left there are not
    this test's), stopped and the queues purged afterwards."""
    queues_purge()
    worker = WorkerProcess(log_path, **env).start()
    try:
        yield worker
    finally:
        worker.stop()
        queues_purge()


@pytest.fixture
def celery_worker_process(transactional_db, broker_queues, tmp_path):
    """A real worker for one test; the test's data is committed so the worker sees it."""
    with worker_running(tmp_path / "worker.log") as worker:
        yield worker


# --- helpers ---------------------------------------------------------------------------------
def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = ""):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout}s (last: {last!r})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pids_children(pid: int) -> list[int]:
    """Direct children of a process (pgrep -P), e.g. a worker's pool or gunicorn's workers."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class WebProcess(ManagedProcess):
    """A real gunicorn (master, workers and gunicorn.conf.py) on a free port, test database.

    Each web process has its own spool directory unless two are given the same one (a
    restarted web process on the same host).
    """

    name = "gunicorn"

    def __init__(self, log_path: Path, spool_dir: Path, workers: int = 2, threads: int = 4, **env):
        super().__init__(log_path, **env)
        self.spool_dir = spool_dir
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "mvsic.wsgi",
            "--config", str(ROOT / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers), "--threads", str(self.threads),
            "--access-logfile", "-", "--no-control-socket",
        ]  # fmt: skip

    def process_env(self) -> dict:
        return process_env(MVSIC_SPOOL_DIR=self.spool_dir, **self.env)

    def ready(self) -> bool:
        import requests

        try:
            up = requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False
        return up and len(pids_children(self.proc.pid)) >= self.workers


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
