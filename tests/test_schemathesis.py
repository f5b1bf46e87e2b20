"""The OpenAPI schema is the contract: Schemathesis, with every check and every phase, against
a real running site (gunicorn, the test database, the broker), as an API client would run it.
"""

import subprocess
import sys

import pytest
from knox.models import AuthToken

from analytics.services.ingest_keys import ingest_key_create
from tests.conftest import ROOT, WebProcess, make_artist, make_track, make_user

pytestmark = [pytest.mark.slow, pytest.mark.integration]

PHASES = "examples,coverage,fuzzing,stateful"


def schemathesis(url: str, *headers: str, examples: int) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{url}/api/schema/",
        "--checks", "all", "--phases", PHASES, "--max-examples", str(examples),
        "--seed", "7", "--workers", "1", "--suppress-health-check", "all",
        *(arg for header in headers for arg in ("-H", header)),
    ]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.fixture
def site(transactional_db, broker_queues, tmp_path):
    member = make_user()
    track = make_track(make_artist(members=[member]))
    _, token = AuthToken.objects.create(user=member)
    _, key = ingest_key_create(name="schemathesis")
    web = WebProcess(tmp_path / "web.log", tmp_path / "spool", workers=1).start()
    yield web, token, key, track
    web.stop()


def test_schemathesis_finds_no_mismatch_with_a_token(site):
    web, token, _, _ = site
    done = schemathesis(web.url, f"Authorization: Token {token}", examples=30)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_schemathesis_finds_no_mismatch_as_an_ingest_key_client(site):
    web, _, key, _ = site
    done = schemathesis(web.url, f"Authorization: Ingest {key}", examples=30)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
