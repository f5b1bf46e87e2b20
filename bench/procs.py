"""The processes a benchmark run starts and stops: gunicorn, batch and no-op Celery workers,
and the process trees under them."""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

from bench.broker import consumers
from bench.context import BIN, LIVE, ROOT, database_url


class Proc:
    def __init__(self, name: str, command: list[str], log_path: Path, env: dict | None = None):
        self.name = name
        self.log_path = log_path
        self.handle = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        LIVE[self.proc.pid] = "web" if name == "gunicorn" else name.split("-")[0] + "_worker"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check(self) -> None:
        """Fail with the end of its log if the process has exited."""
        if not self.alive():
            raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")

    def wait_log(self, marker: bytes, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            if marker in self.log_path.read_bytes():
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready: {self.log_path.read_text()[-2000:]}")

    def stop(self, timeout: float = 30) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        LIVE.pop(self.proc.pid, None)
        self.handle.close()


def check_all(procs: list[Proc]) -> None:
    for proc in procs:
        proc.check()


def stop_all(procs: list[Proc]) -> None:
    for proc in procs:
        proc.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_start(args, *, port: int | None = None, db: str | None = None) -> Proc:
    """gunicorn on the bench's port and database, or on another port and database."""
    env = {"WEB_CONCURRENCY": str(args.web_workers), "WEB_THREADS": str(args.web_threads)}
    if port is not None:
        env.update(PORT=str(port), MVSIC_SPOOL_DIR=f"{os.environ['MVSIC_SPOOL_DIR']}-{port}")
    if db is not None:
        env["DATABASE_URL"] = database_url(db=db)
    web = Proc(
        "gunicorn",
        [str(BIN / "gunicorn"), "mvsic.wsgi", "-c", str(ROOT / "gunicorn.conf.py")],
        args.run_dir / f"web{'' if port is None else f'-{port}'}.log",
        env=env,
    )
    url = f"http://127.0.0.1:{port or args.port}/healthz"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310
            return web
        web.check()
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in 60 s")


def workers_start(args, n: int, *, noop: bool = False, concurrency: int = 1) -> list[Proc]:
    """n batch workers (`--event-batches`), or one plain worker draining the no-op queue."""
    from django.conf import settings

    procs = []
    for i in range(n):
        name = f"{'noop' if noop else 'events'}-{i}-{uuid.uuid4().hex[:4]}"
        command = [
            str(BIN / "celery"), "-A", "mvsic", "worker", "--loglevel", "WARNING",
            "--concurrency", str(concurrency), "--without-mingle", "--without-gossip",
            "--hostname", f"{name}@%h",
        ]  # fmt: skip
        if noop:
            command += ["-Q", os.environ["MVSIC_BENCH_NOOP_QUEUE"], "-I", "bench.tasks"]
        else:
            command += ["-Q", settings.MVSIC_DEFAULT_QUEUE, "--event-batches"]
        procs.append(Proc(name, command, args.run_dir / f"{name}.log"))
    for proc in procs:
        # WARNING hides " ready."; the batch step logs nothing at WARNING either: wait for
        # the worker to be consuming (its queue shows a consumer), checked by the caller.
        proc.wait_log(b"", timeout=5)
    return procs


def wait_consumers(name: str, n: int, procs: list[Proc], timeout: float = 90) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_all(procs)
        if consumers(name) >= n:
            return time.monotonic()
        time.sleep(0.02)
    raise RuntimeError(f"{n} consumers did not attach to {name} in {timeout:.0f}s")


@contextlib.contextmanager
def workers_running(args, n: int, *, noop: bool = False, concurrency: int = 1):
    """Workers as `workers_start` starts them, once all n consume their queue; yields them
    and when the last one attached, and stops them on the way out."""
    from django.conf import settings

    queue = os.environ["MVSIC_BENCH_NOOP_QUEUE"] if noop else settings.MVSIC_EVENTS_QUEUE
    procs = workers_start(args, n, noop=noop, concurrency=concurrency)
    try:
        yield procs, wait_consumers(queue, n, procs)
    finally:
        stop_all(procs)


def process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found
