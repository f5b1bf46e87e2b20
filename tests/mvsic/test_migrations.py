"""The migrations build a fresh SQLite database, the zero-setup database of `make run`
(PostgreSQL is what the rest of the suite runs on)."""

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_a_fresh_sqlite_database_migrates_to_the_latest_schema(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mvsic.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "MVSIC_MEDIA_ROOT": str(tmp_path / "media"),
        "MVSIC_SPOOL_DIR": str(tmp_path / "spool"),
    }
    for command in (["migrate", "--noinput"], ["migrate", "mvsic", "0009"], ["migrate"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
