"""What a run ran on: the machine, the versions of what the bench ran, and the code's git
revision (stored with every result)."""

import contextlib
import os
import platform
import subprocess
from pathlib import Path

from bench.context import ROOT


def machine() -> dict:
    """The machine, the versions of what the bench ran, and the code's git revision."""
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    import celery
    import django
    import gunicorn
    import kombu

    return {
        "nproc": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            "?",
        ),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.__version__,
        "celery": celery.__version__,
        "kombu": kombu.__version__,
        "gunicorn": gunicorn.__version__,
        "postgresql": _version(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"]
        ),
        "rabbitmq": _version(["rabbitmqctl", "version"]),
        "wrk": _version(["wrk", "--version"]),
        **_git(),
    }


def _version(command: list[str]) -> str:
    with contextlib.suppress(Exception):
        out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    return "?"


def _git() -> dict:
    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--short", "--untracked-files=no", "analytics", "mvsic"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    return {"git": git, "app_files_modified": [f for f in dirty if f.endswith(".py")]}
