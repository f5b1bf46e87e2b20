"""gunicorn.conf.py with a real gunicorn: how the web workers listen."""

import os
from pathlib import Path

import pytest

from tests.conftest import WebProcess, pids_children

LISTEN = "0A"  # the TCP state in /proc/net/tcp


def listening_sockets(pid: int, port: int) -> set[int]:
    """Inodes of the sockets a process holds that listen on the port."""
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            held.add(int(target[len("socket:[") : -1]))
    listening = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == LISTEN and int(fields[9]) in held:
            listening.add(int(fields[9]))
    return listening


@pytest.mark.parametrize(("value", "own_sockets"), [(None, True), ("0", False)])
def test_each_worker_listens_on_its_own_socket(
    transactional_db, tmp_path, monkeypatch, value, own_sockets
):
    monkeypatch.delenv("GUNICORN_REUSE_PORT", raising=False)  # None: gunicorn.conf's default
    env = {} if value is None else {"GUNICORN_REUSE_PORT": value}
    web = WebProcess(tmp_path / "web.log", tmp_path / "spool", workers=2, **env).start()
    try:
        workers = pids_children(web.proc.pid)
        sockets = [listening_sockets(pid, web.port) for pid in workers]
    finally:
        web.stop()
    assert len(workers) == 2
    assert all(len(held) == 1 for held in sockets), sockets
    distinct = len(set.union(*sockets))
    # One socket each lets the kernel spread connections over the workers; one shared
    # socket lets a single worker accept them all.
    assert distinct == (2 if own_sockets else 1)
