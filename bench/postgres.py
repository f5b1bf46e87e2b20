"""PostgreSQL servers of the bench's own, to compare settings in one run: each is a fresh
cluster (initdb) on a free port, with PostgreSQL's stock settings or with
deploy/postgresql/mvsic.conf included, stopped and deleted at the end. While one runs, the
bench process and every process it starts use it (DATABASE_URL)."""

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.context import ROOT, database_url, log
from bench.procs import free_port

SETTINGS = {"stock": None, "tuned": ROOT / "deploy" / "postgresql" / "mvsic.conf"}


def _bin(program: str) -> str:
    """A PostgreSQL server program: on the PATH, or Debian's newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(program)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), key=_version)
    if not versions:
        raise RuntimeError(f"{program} not found: the PostgreSQL server package is needed")
    return str(versions[-1])


def _version(path: Path) -> float:
    return float(path.parent.parent.name)


@contextlib.contextmanager
def server(name: str):
    """A fresh server with the `name`d settings; yields its port, with DATABASE_URL and the
    bench's own connection pointed at it, and puts both back on the way out."""
    from django.db import connections

    owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = Path(tempfile.mkdtemp(prefix=f"mvsic-bench-pg-{name}-", dir="/var/tmp"))
    pg_ctl = [*owner, _bin("pg_ctl"), "-D", str(data), "-l", str(data / "server.log")]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
    before = os.environ["DATABASE_URL"]
    settings_dict = connections["default"].settings_dict
    saved = settings_dict["PORT"]
    try:
        port = _init(data, owner, name)
        subprocess.run([*pg_ctl, "-w", "start"], check=True, **quiet)
        log(f"postgres: {name} settings on port {port}")
        connections.close_all()
        os.environ["DATABASE_URL"] = database_url(port=port)
        settings_dict["PORT"] = port
        yield port
    finally:
        connections.close_all()
        os.environ["DATABASE_URL"] = before
        settings_dict["PORT"] = saved
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], check=False, **quiet)
        shutil.rmtree(data, ignore_errors=True)


def _init(data: Path, owner: list[str], name: str) -> int:
    """initdb in `data`, listening on a free port of 127.0.0.1 with the `name`d settings;
    returns the port."""
    if owner:  # initdb and postgres refuse to run as root
        shutil.chown(data, "postgres")
    subprocess.run(
        [*owner, _bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    port = free_port()
    lines = [
        f"port = {port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{data}'",
    ]
    if SETTINGS[name] is not None:  # a copy the server's user can read
        shutil.copy(SETTINGS[name], data / "mvsic.conf")
        lines.append("include 'mvsic.conf'")
    conf = data / "postgresql.conf"
    conf.write_text(conf.read_text() + "\n".join(lines) + "\n")
    return port
