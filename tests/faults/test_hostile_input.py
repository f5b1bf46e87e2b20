"""Scenario 9: hostile input at the API. Thousands of malformed events and bodies, from
Hypothesis strategies and from schemathesis reading our own OpenAPI schema: never a 500,
and afterwards the counters equal exactly what the 202-accepted events imply."""

import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from analytics.models import PoisonEvent
from tests.faults.conftest import (
    EVENTS_URL,
    Ledger,
    Send,
    assert_counted_exactly,
    http_session,
    stamp,
    wait_idle,
)

pytestmark = [pytest.mark.fault, pytest.mark.integration, pytest.mark.slow]

FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=examples)


ALLOWED = {202, 400, 413, 415}


# --- what a 202 accepted ---------------------------------------------------------------------
def _ts(value, received: datetime) -> datetime:
    if value is None:
        return received
    ts = datetime.fromisoformat(value)
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(UTC)


def record(ledger: Ledger, sent: bytes, response, started: float, wall: datetime) -> None:
    """Add the events a 202 accepted (the first accepted copy of each id) to the ledger.

    The server stamps received_at (and ts when absent) with its clock; the middle of the
    request is close enough to order requests, which are sent one at a time.
    """
    duration = time.monotonic() - started
    received = wall + timedelta(seconds=duration / 2)
    status = response.status_code
    ledger.sends.append(Send(started, duration, status, 0, 0))
    if status != 202:
        return
    data = json.loads(sent)
    raws = [data] if isinstance(data, dict) else data
    rejected = {r["index"] for r in response.json()["rejected"]}
    for index, raw in enumerate(raws):
        if index in rejected:
            continue
        assert "listener" in raw, "accepted without a listener and without a cookie"
        event_id = str(uuid.UUID(raw["id"]))  # the server keeps the canonical form
        ledger.accept(
            {
                "id": event_id,
                "type": raw["type"],
                "track": raw["track"],
                "listener": raw["listener"],
                "ts": _ts(raw.get("ts"), received).isoformat(),
                "received_at": received.isoformat(),
                "seconds": raw.get("seconds"),
                **({"ua": raw["ua"]} if "ua" in raw else {}),
            },
        )


def post_raw(session, url, ledger, body: bytes, content_type: str | None) -> int:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    started, wall = time.monotonic(), datetime.now(UTC)
    response = session.post(url + EVENTS_URL, data=body, headers=headers, timeout=30)
    assert response.status_code in ALLOWED, (response.status_code, body[:300], response.text[:300])
    if content_type == "application/json" or response.status_code == 202:
        record(ledger, body, response, started, wall)
    return response.status_code


# --- strategies ------------------------------------------------------------------------------
json_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_any = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def event_strategy(track_ids: list[int], id_pool: list[str], past: datetime):
    listeners = [f"fan-{i}" for i in range(8)]
    ts_valid = st.integers(0, 3600 * 24).map(lambda s: (past + timedelta(seconds=s)).isoformat())
    fields = {
        "id": st.sampled_from(id_pool)
        | st.sampled_from(id_pool).map(str.upper)
        | st.sampled_from(id_pool).map(lambda i: "{" + i + "}")
        | st.sampled_from(id_pool).map(lambda i: "urn:uuid:" + i)
        | st.uuids().map(str)
        | json_any,
        "type": st.sampled_from(["play", "like", "unlike"]) | json_any,
        "track": st.sampled_from(track_ids)
        | st.sampled_from(track_ids).map(float)
        | st.sampled_from(track_ids).map(str)
        | st.integers(-(2**64), 2**64)
        | st.booleans(),
        "listener": st.sampled_from(listeners)
        | st.from_regex(r"[A-Za-z0-9_-]{1,70}", fullmatch=True)
        | json_any,
        "ts": ts_valid
        | ts_valid.map(lambda t: t[:19])  # naive: taken as UTC
        | st.sampled_from(["2999-01-01T00:00:00+00:00", "yesterday", "2026-02-30T00:00:00"])
        | st.datetimes().map(datetime.isoformat)
        | ts_valid.map(lambda t: t + "\x00")
        | json_any,
        "seconds": st.floats(min_value=0, max_value=1e7)
        | st.sampled_from([-1, 1e8, 10**400, "31", True])
        | json_any,
        "source": st.text(max_size=70) | json_any,
    }
    valid = {
        "id": st.sampled_from(id_pool),
        "type": st.sampled_from(["play", "like", "unlike"]),
        "track": st.sampled_from(track_ids),
        "listener": st.sampled_from(listeners),
        "ts": ts_valid,
    }
    extra = st.dictionaries(st.text(max_size=10), json_any, max_size=3)
    hostile = st.builds(
        lambda base, more: {**more, **base},
        st.fixed_dictionaries({}, optional=fields),
        extra,
    )
    return st.one_of(st.fixed_dictionaries(valid), hostile, json_any)


def body_strategy(events):
    return st.one_of(
        st.lists(events, min_size=0, max_size=25),
        events,
        json_any,
    )


def fuzz_operation(operation, mode, examples, base_url, session, ledger, statuses) -> None:
    """schemathesis cases for one operation; no 5xx, and what the events API accepted is
    recorded."""

    @fuzz(examples)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        t0, wall = time.monotonic(), datetime.now(UTC)
        response = case.call(base_url=base_url, session=session, timeout=30)
        case.validate_response(response, checks=[not_a_server_error])
        statuses[response.status_code] += 1
        if operation.path == EVENTS_URL:
            record(ledger, response.request.body, response, t0, wall)

    try:
        run()
    except Unsatisfiable:
        # Some operations have nothing schemathesis can make invalid (no body, typed path).
        assert mode == GenerationMode.NEGATIVE, operation.label
        statuses["unsatisfiable " + operation.label] += 1


def test_hostile_input_never_fails_and_only_accepted_events_count(rig, catalog):
    started = time.monotonic()
    web = rig.web()
    rig.worker()
    ledger = Ledger()
    session = http_session()
    statuses: Counter = Counter()
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    id_pool = [str(uuid.UUID(int=i * 7919 + 1, version=4)) for i in range(400)]
    events = event_strategy(catalog.track_ids, id_pool, past)
    sent_events = 0

    @fuzz(1200)
    @given(body=body_strategy(events))
    def fuzz_json(body):
        nonlocal sent_events
        raw = json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")
        sent_events += len(body) if isinstance(body, list) else 1
        statuses[post_raw(session, web.url, ledger, raw, "application/json")] += 1

    @fuzz(300)
    @given(
        body=st.binary(max_size=300)
        | st.text().map(lambda t: t.encode("utf-8", "surrogatepass"))
        | st.sampled_from(
            [
                b"",
                b"[",
                b"{}",
                b"[]",
                b"null",
                b"[NaN]",
                b'{"id": Infinity}',
                b"\xff\xfe",
                b"[" * 100_000 + b"]" * 100_000,
                b"[" + b"{}," * 600 + b"{}]",
                b'[{"\\ud800": 1}]',
                b'{"a": "\\u0000"}',
                b"1e400",
                b" " * (1024 * 1024 + 1),
            ]
        ),  # fmt: skip
        content_type=st.sampled_from(
            [
                "application/json",
                "application/json; charset=latin-1",
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                None,
            ]
        ),  # fmt: skip
    )
    def fuzz_bytes(body, content_type):
        statuses[post_raw(session, web.url, ledger, body, content_type)] += 1

    fuzz_json()
    fuzz_bytes()
    hypothesis_requests = len(ledger.sends)

    # schemathesis: cases generated from /api/schema/, valid and invalid, on every operation.
    schema = schemathesis.openapi.from_url(f"{web.url}/api/schema/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(op.path == EVENTS_URL for op in operations)
    for operation in operations:
        examples = 300 if operation.path == EVENTS_URL else 40
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz_operation(operation, mode, examples, web.url, session, ledger, statuses)

    assert not any(isinstance(c, int) and c >= 500 for c in statuses), statuses
    assert statuses[202] >= 100 and len(ledger.accepted) >= 100, statuses
    drained = wait_idle(set(ledger.accepted), timeout=120, what="after the fuzzing")
    # Plays close together from one address also trip the limits: their reasons are taken
    # as stored, and still credited + filtered = accepted.
    assert_counted_exactly(ledger, catalog, stateful=True)
    assert not PoisonEvent.objects.exists(), "an accepted event could not be counted"
    print(
        f"\n9: {len(ledger.sends)} requests ({hypothesis_requests} from Hypothesis, "
        f"{len(ledger.sends) - hypothesis_requests} on the events API from schemathesis), "
        f"{sent_events}+ events in JSON bodies, statuses {dict(statuses)}; "
        f"{ledger.copies} accepted copies of {len(ledger.accepted)} distinct events counted "
        f"exactly; idle {drained:.1f}s after; {stamp(started)}s"
    )
