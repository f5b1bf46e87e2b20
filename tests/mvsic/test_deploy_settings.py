"""Settings for production: the development key is refused, `check --deploy` is clean."""

import os
import subprocess
import sys

from tests.conftest import ROOT

# What docs/operations.md lists for a production deployment behind HTTPS.
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "a-production-secret-" + "p" * 40,
    "DJANGO_SECURE_HTTPS": "true",
    "DJANGO_ALLOWED_HOSTS": "mvsic.example",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://mvsic.example",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/mvsic",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.update(DJANGO_SETTINGS_MODULE="mvsic.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_the_development_secret_key_is_refused_unless_debug_is_on():
    refused = manage("check", DJANGO_DEBUG="false")
    assert refused.returncode != 0
    assert "DJANGO_SECRET_KEY is the development default" in refused.stderr
    assert manage("check", DJANGO_DEBUG="true").returncode == 0


def test_check_deploy_is_clean_with_the_documented_production_settings():
    done = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "no issues" in done.stdout
