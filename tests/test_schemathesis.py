"""The OpenAPI schema is the contract: Schemathesis, over every phase, against a real running
site (gunicorn, the test database, the broker), as an API client would run it.

Every check runs but one, positive_data_acceptance: it expects any schema-valid request to be
accepted, while the event API rejects, event by event with a 400 naming the field, what
depends on data and time the schema cannot express (a track id that does not exist, a `ts`
older than MVSIC_MAX_EVENT_AGE_SECONDS, `ip`/`ua` from a browser). Everything else a response
says (status codes, bodies, headers, content types) must match the schema.
"""

import subprocess
import sys

import pytest
from knox.models import AuthToken

from analytics.services.ingest_keys import ingest_key_create
from mvsic.models import Track
from tests.conftest import ROOT, WebProcess, make_artist, make_user

pytestmark = [pytest.mark.slow, pytest.mark.integration]

PHASES = "examples,coverage,fuzzing,stateful"


def schemathesis(url: str, *headers: str, examples: int) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{url}/api/schema/",
        "--checks", "all", "--exclude-checks", "positive_data_acceptance",
        "--phases", PHASES, "--max-examples", str(examples),
        "--seed", "7", "--workers", "1", "--suppress-health-check", "all",
        *(arg for header in headers for arg in ("-H", header)),
    ]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.fixture
def site(transactional_db, broker_queues, tmp_path):
    member = make_user()
    artist = make_artist(members=[member])
    # The schema's example names track 1: the data it points at exists, as on a real site.
    track = Track.objects.create(
        id=1, artist=artist, title="Example", duration=40.0, audio="tracks/none.wav"
    )
    _, token = AuthToken.objects.create(user=member)
    _, key = ingest_key_create(name="schemathesis")
    web = WebProcess(tmp_path / "web.log", tmp_path / "spool", workers=1).start()
    yield web, token, key, track
    web.stop()


def test_schemathesis_finds_no_mismatch_with_a_token(site):
    web, token, _, _ = site
    done = schemathesis(web.url, f"Authorization: Token {token}", examples=30)
    assert done.returncode == 0, done.stdout[-30000:] + done.stderr[-2000:]


def test_schemathesis_finds_no_mismatch_as_an_ingest_key_client(site):
    web, _, key, _ = site
    done = schemathesis(web.url, f"Authorization: Ingest {key}", examples=30)
    assert done.returncode == 0, done.stdout[-30000:] + done.stderr[-2000:]
