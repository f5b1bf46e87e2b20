"""Fault-test fixtures: a known event stream, a ledger of what the API accepted, the exact
counters that implies, real processes to kill, and off switches for RabbitMQ and PostgreSQL.

Every fault test ends the same way: wait until the pipeline is idle, then require that the
stored events are exactly the accepted ones, each credited or filtered under the reason the
rules give it (credited + filtered = accepted), that every track and artist counter equals
what the credited events imply (computed here, from what was sent), and that reconciliation
finds no drift.

The stream is an app backend's (an ingest key) relaying honest fans from their own addresses,
a browser's user agent and a realistic pace, with a share of bot agents and short plays that
the rules must filter, and nothing else.
"""

import contextlib
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connections, models
from django.utils import timezone
from kombu import Connection

from analytics import wire
from analytics.bots import user_agent_is_bot
from analytics.clients import ingest_key_digest
from analytics.models import ArtistStats, Event, FilteredHour, IngestKey, PoisonEvent, TrackStats
from analytics.relay import events_hand_over, process_relay, relay_stop
from analytics.services.reconciliation import counts_reconcile
from tests.conftest import (
    BROWSER_UA,
    ROOT,
    WebProcess,
    WorkerProcess,
    make_artist,
    make_track,
    queues_purge,
)

EVENTS_URL = "/api/v1/events/"
INGEST_KEY = "mvk_fault-tests-relay"
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
# One event per listener per this many seconds: every play a real listen apart (tracks are
# 40 s), under an hour's listening and the likes cap per address.
LISTENER_TICK = timedelta(seconds=61)
# The rules that depend on what was credited before (a stateful stream may trip them).
LIMITS = {"too_fast", "too_much_listening", "too_many_listeners", "too_many_likes"}


# --- the three-node cluster of test_cluster.py ------------------------------------------------
CLUSTER_SCRIPT = ROOT / "scripts" / "rabbitmq-cluster.sh"


class ClusterBoot:
    """The cluster's directory and its `start`, then `stop`, run in the background."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.process = self._run("start")
        self.stopping = False

    def _run(self, action: str) -> subprocess.Popen:
        command = ["sh", str(CLUSTER_SCRIPT), action, str(self.directory)]
        return subprocess.Popen(command, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        """Stop the nodes in the background (about 20 s) while the next tests run."""
        if not self.stopping:
            self.process.wait(timeout=300)
            self.process, self.stopping = self._run("stop"), True


@pytest.fixture(scope="session", autouse=True)
def cluster_boot(request) -> Iterator[ClusterBoot | None]:
    """When the session runs test_cluster.py, its three nodes start booting at the first
    fault test (half a minute of work) while the tests before it run."""
    if not any(item.path.name == "test_cluster.py" for item in request.session.items):
        yield None
        return
    # Under /tmp and readable by all: Debian's package runs the nodes as the rabbitmq user.
    directory = Path(tempfile.mkdtemp(prefix="mvsic-rabbitmq-cluster-"))
    directory.chmod(0o755)
    boot = ClusterBoot(directory)
    try:
        yield boot
    finally:
        boot.stop()  # again, if test_cluster.py did not run to its end
        boot.process.wait(timeout=300)
        shutil.rmtree(directory, ignore_errors=True)


# --- the catalog -----------------------------------------------------------------------------
@dataclass
class Catalog:
    track_ids: list[int]
    artist_of: dict[int, int]

    @property
    def artist_ids(self) -> list[int]:
        return sorted(set(self.artist_of.values()))


@pytest.fixture
def catalog(transactional_db) -> Catalog:
    """Three artists with 3, 2 and 2 tracks, committed so other processes see them, and
    the ingest key the stream is sent with."""
    IngestKey.objects.create(
        name="fault tests", prefix=INGEST_KEY[:8], digest=ingest_key_digest(INGEST_KEY)
    )
    artist_of = {}
    for size in (3, 2, 2):
        artist = make_artist()
        for _ in range(size):
            artist_of[make_track(artist).id] = artist.id
    return Catalog(track_ids=sorted(artist_of), artist_of=artist_of)


# --- the stream ------------------------------------------------------------------------------
class EventStream:
    """A deterministic stream of fan events in which some events are sent again (same id).

    Each listener has its own address and sends one event per LISTENER_TICK of event time
    (plus a millisecond offset of its own), so which like or unlike of a listener is the
    latest never depends on arrival order or on the server's clock, and only the share of
    `bots` and `shorts` is filtered.
    """

    def __init__(
        self,
        track_ids: Iterable[int],
        *,
        seed: int,
        listeners: int = 40,
        duplicates: float = 0.15,
        likes: float = 0.3,
        bots: float = 0.03,
        shorts: float = 0.03,
    ):
        self.track_ids = list(track_ids)
        self.rng = random.Random(seed)
        self.seed = seed
        self.listeners = listeners
        self.duplicates = duplicates
        self.likes = likes
        self.bots = bots
        self.shorts = shorts
        self.sent: list[dict] = []
        self.base = timezone.now().replace(microsecond=0) - timedelta(days=2)
        self.ticks: Counter = Counter()

    def new(self, track_id: int | None = None) -> dict:
        rng = self.rng
        kind = "play" if rng.random() >= self.likes else rng.choice(["like", "unlike"])
        listener = rng.randrange(self.listeners)
        self.ticks[listener] += 1
        ts = self.base + self.ticks[listener] * LISTENER_TICK + timedelta(milliseconds=listener)
        event = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "type": kind,
            "track": track_id if track_id is not None else rng.choice(self.track_ids),
            "listener": f"fan{self.seed}-{listener}",  # two streams never share a listener
            "ts": ts.isoformat(),
            "source": "fault-test",
            "ip": f"198.18.{listener // 250}.{listener % 250 + 1}",
        }
        if rng.random() < self.bots:
            event["ua"] = BOT_UA
        if kind == "play":
            event["seconds"] = 5.0 if rng.random() < self.shorts else 31.5
        self.sent.append(event)
        return event

    def batch(self, size: int) -> list[dict]:
        """`size` events: mostly new ones, some earlier ones sent again unchanged."""
        out = []
        for _ in range(size):
            if self.sent and self.rng.random() < self.duplicates:
                out.append(dict(self.rng.choice(self.sent)))
            else:
                out.append(self.new())
        return out


def payload_of(event: dict) -> dict:
    """What the API would queue for `event` (for tests that publish without the web tier)."""
    return {
        "id": event["id"],
        "type": event["type"],
        "track": event["track"],
        "listener": event["listener"],
        "ts": event["ts"],
        "received_at": timezone.now().isoformat(),
        "seconds": event.get("seconds"),
        "source": event.get("source", ""),
        "address": uuid.uuid5(uuid.NAMESPACE_DNS, event.get("ip", "")).hex[:16],
        "ua": event.get("ua", BROWSER_UA),
    }


def reason_expected(event: dict) -> str:
    """The reason the rules that need no history give an event ('' when credited); the
    catalog's tracks are 40 s long."""
    if user_agent_is_bot(event.get("ua", BROWSER_UA)):
        return "bot"
    if event["type"] == "play":
        seconds = event.get("seconds") or 0
        if seconds < min(settings.MVSIC_PLAY_THRESHOLD_SECONDS, 40):
            return "short"
        if seconds > 40 + settings.MVSIC_PLAY_SLACK_SECONDS:
            return "too_long"
    return ""


# --- what was accepted -----------------------------------------------------------------------
@dataclass
class Send:
    started: float  # time.monotonic()
    duration: float
    status: int | None  # None: no answer (connection refused, reset, timeout)
    events: int
    accepted: int
    error: str = ""


@dataclass
class Ledger:
    """Every request sent and every event the API accepted (the first accepted copy of each).

    A client may send different events under one id; exactly one of them counts, and with
    several web processes it is the one a worker sees first, not always the first sent.
    `variants` keeps every distinct accepted event of each id.
    """

    accepted: dict[str, dict] = field(default_factory=dict)
    variants: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    sends: list[Send] = field(default_factory=list)
    copies: int = 0  # accepted copies, duplicates included
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accept(self, event: dict) -> None:
        self.copies += 1
        self.accepted.setdefault(event["id"], event)
        known = self.variants[event["id"]]
        if event not in known:
            known.append(event)

    def record(self, events: list[dict], send: Send, rejected: Iterable[int] = ()) -> None:
        skip = set(rejected)
        with self.lock:
            self.sends.append(send)
            if send.status == 202:
                for index, event in enumerate(events):
                    if index not in skip:
                        self.accept(event)

    def statuses(self) -> Counter:
        return Counter(s.status for s in self.sends)

    @property
    def events_sent(self) -> int:
        return sum(s.events for s in self.sends)

    def summary(self) -> str:
        return (
            f"{len(self.sends)} requests, {self.events_sent} events sent, {self.copies} "
            f"accepted copies of {len(self.accepted)} distinct events, "
            f"statuses {dict(self.statuses())}"
        )


def http_session() -> requests.Session:
    """The stream's ingest-key client, opening a connection per request: a kept-alive
    connection the server closed while idle would fail the next POST without it ever
    reaching the server."""
    session = requests.Session()
    session.headers.update(
        {"Connection": "close", "Authorization": f"Ingest {INGEST_KEY}", "User-Agent": BROWSER_UA}
    )
    return session


def post_events(session: requests.Session, url: str, events: list[dict], ledger: Ledger) -> Send:
    started = time.monotonic()
    try:
        response = session.post(url + EVENTS_URL, json=events, timeout=15)
    except requests.RequestException as exc:
        send = Send(started, time.monotonic() - started, None, len(events), 0, repr(exc))
        ledger.record(events, send)
        return send
    duration = time.monotonic() - started
    rejected, accepted, error = [], 0, ""
    try:
        body = response.json()
        rejected = [r["index"] for r in body.get("rejected", [])]
        accepted = body.get("accepted", 0)
    except ValueError:
        error = response.text[:200]
    if response.status_code >= 500 and response.status_code != 503:
        error = response.text[:500]
    send = Send(started, duration, response.status_code, len(events), accepted, error)
    ledger.record(events, send, rejected)
    return send


def publish_events(events: list[dict], ledger: Ledger) -> str:
    """Hand events to analytics.relay in this process (no web tier): accepted when it
    returns, as the API would answer 202."""
    started = time.monotonic()
    where = events_hand_over([payload_of(e) for e in events])
    ledger.record(events, Send(started, time.monotonic() - started, 202, len(events), len(events)))
    return where


class HttpSender(threading.Thread):
    """Posts `requests_total` batches from a stream at about `rate` requests a second."""

    def __init__(
        self,
        url: str,
        stream: EventStream,
        ledger: Ledger,
        *,
        requests_total: int,
        batch: int = 10,
        rate: float = 10.0,
    ):
        super().__init__(name="fault-sender", daemon=True)
        self.url, self.stream, self.ledger = url, stream, ledger
        self.requests_total, self.batch_size, self.interval = requests_total, batch, 1.0 / rate
        self.done = 0
        self.halt = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            with http_session() as session:
                next_at = time.monotonic()
                while self.done < self.requests_total and not self.halt.is_set():
                    post_events(session, self.url, self.stream.batch(self.batch_size), self.ledger)
                    self.done += 1
                    next_at += self.interval
                    time.sleep(max(0.0, next_at - time.monotonic()))
        except BaseException as exc:  # reported by finish()
            self.failure = exc

    def wait_done(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.done < count and self.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.done < count:
            raise AssertionError(f"sender stuck at {self.done}/{count} requests: {self.failure!r}")

    def finish(self, timeout: float = 300) -> None:
        self.join(timeout)
        assert not self.is_alive(), f"sender still running after {timeout}s"
        if self.failure is not None:
            raise self.failure


# --- what the accepted events imply ----------------------------------------------------------
@dataclass
class Figures:
    tracks: dict[int, tuple[int, int, int]]  # id -> (plays, likes, listeners)
    artists: dict[int, tuple[int, int, int]]


def counts_implied(events: Iterable[dict], catalog: Catalog) -> Figures:
    """Counters implied by accepted events, each distinct id counted once; a listener's
    latest like/unlike of a track (by its timestamp) decides whether it is liked."""
    plays: Counter = Counter()
    listeners: dict[int, set] = defaultdict(set)
    artist_listeners: dict[int, set] = defaultdict(set)
    latest: dict[tuple[int, str], tuple[tuple, str]] = {}
    for event in events:
        track = event["track"]
        if event["type"] == "play":
            plays[track] += 1
            listeners[track].add(event["listener"])
            artist_listeners[catalog.artist_of[track]].add(event["listener"])
        else:
            # Latest by (ts, received_at, id), as the counters decide; received_at is known
            # (roughly) only where the test must tell equal timestamps apart.
            ts = datetime.fromisoformat(event["ts"]).astimezone(UTC)
            received = datetime.fromisoformat(event.get("received_at") or event["ts"])
            order = (ts, received.astimezone(UTC), uuid.UUID(event["id"]))
            key = (track, event["listener"])
            if key not in latest or order > latest[key][0]:
                latest[key] = (order, event["type"])
    likes = Counter(track for (track, _), (_, kind) in latest.items() if kind == "like")
    tracks = {t: (plays[t], likes[t], len(listeners[t])) for t in catalog.track_ids}
    artists = {}
    for artist in catalog.artist_ids:
        mine = [t for t in catalog.track_ids if catalog.artist_of[t] == artist]
        artists[artist] = (
            sum(plays[t] for t in mine),
            sum(likes[t] for t in mine),
            len(artist_listeners[artist]),
        )
    return Figures(tracks=tracks, artists=artists)


def counts_stored(catalog: Catalog) -> Figures:
    zero = (0, 0, 0)
    tracks = dict.fromkeys(catalog.track_ids, zero)
    for row in TrackStats.objects.values_list("track_id", "plays", "likes", "listeners"):
        tracks[row[0]] = tuple(row[1:])
    artists = dict.fromkeys(catalog.artist_ids, zero)
    for row in ArtistStats.objects.values_list("artist_id", "plays", "likes", "listeners"):
        artists[row[0]] = tuple(row[1:])
    return Figures(tracks=tracks, artists=artists)


# --- the broker's view -----------------------------------------------------------------------
def queue_ready(name: str | None = None) -> int:
    """Messages ready in a queue (not counting those delivered and not yet acknowledged)."""
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=3) as conn:
        _, ready, _ = conn.default_channel.queue_declare(
            name or settings.MVSIC_EVENTS_QUEUE, passive=True
        )
        return ready


def queue_ready_events(name: str | None = None) -> int:
    """Events carried by the messages ready in a queue: each message is taken without an
    ack and goes back to the queue when the channel closes."""
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=3) as conn:
        channel, events = conn.channel(), 0
        while message := channel.basic_get(name or settings.MVSIC_EVENTS_QUEUE, no_ack=False):
            events += len(wire.body_events(json.loads(message.body)))
        channel.close()
        return events


def queue_info(name: str | None = None) -> dict:
    """rabbitmqctl's view of a queue: type, durable, policy; its message counts can be
    seconds old (statistics interval), so waits use queue_ready()."""
    name = name or settings.MVSIC_EVENTS_QUEUE
    out = subprocess.run(
        rabbitmqctl("-q", "list_queues", "--formatter", "json", "name", "type", "durable",
                    "arguments", "messages", "messages_ready", "messages_unacknowledged",
                    "consumers", "policy"),
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    for row in json.loads(out):
        if row["name"] == name:
            return row
    raise AssertionError(f"queue {name} not found on the broker")


# --- waiting and asserting -------------------------------------------------------------------
def wait_idle(want_ids: set[str], *, timeout: float, what: str = "") -> float:
    """Wait until exactly `want_ids` are stored and the events queue is empty; returns seconds.

    Fails at once if an event that was not accepted is stored (counted although refused).
    """
    started = time.monotonic()
    deadline = started + timeout
    stored = ready = None
    while time.monotonic() < deadline:
        stored = Event.objects.count()
        with contextlib.suppress(Exception):  # the broker may still be coming back
            ready = queue_ready()
        if stored > len(want_ids):
            extra = set(map(str, Event.objects.values_list("id", flat=True))) - want_ids
            raise AssertionError(
                f"{len(extra)} stored events were never accepted: {list(extra)[:5]}"
            )
        if stored == len(want_ids) and ready == 0:
            return time.monotonic() - started
        time.sleep(0.25)
    missing = want_ids - set(map(str, Event.objects.values_list("id", flat=True)))
    raise AssertionError(
        f"{what}: after {timeout:.0f}s {stored} of {len(want_ids)} accepted events are counted, "
        f"{ready} still ready in the queue; missing e.g. {sorted(missing)[:5]}"
    )


def assert_counted_exactly(
    ledger: Ledger,
    catalog: Catalog,
    *,
    never_counted: Iterable[str] = (),
    poison: int = 0,
    stateful: bool = False,
) -> Figures:
    """Stored events are exactly the accepted ones (less those that must not count), each
    credited or filtered with the reason the stream implies (with `stateful`, a stream that
    may also trip the limits: the stored reasons are taken as they are), every counter equals
    what the credited ones imply, reconciliation reports no drift, and `poison` events (no
    more) were parked."""
    parked = PoisonEvent.objects.count()
    skip = set(never_counted)
    assert parked == (poison or len(skip)), f"{parked} events parked as poison"
    want_ids = {i for i in ledger.accepted if i not in skip}
    stored_ids = set(map(str, Event.objects.values_list("id", flat=True)))
    lost, extra = want_ids - stored_ids, stored_ids - want_ids
    assert not lost and not extra, (
        f"{len(lost)} accepted events lost (e.g. {sorted(lost)[:3]}), "
        f"{len(extra)} events counted that were not accepted (e.g. {sorted(extra)[:3]})"
    )
    countable = {i: _variant_stored(ledger, i) for i in want_ids}
    _reasons_checked(countable, stateful=stateful)
    credited = [e for i, e in countable.items() if not e["reason"]]
    implied, stored = counts_implied(credited, catalog), counts_stored(catalog)
    diff_tracks = {
        t: {"expected": implied.tracks[t], "stored": stored.tracks[t]}
        for t in catalog.track_ids
        if implied.tracks[t] != stored.tracks[t]
    }
    diff_artists = {
        a: {"expected": implied.artists[a], "stored": stored.artists[a]}
        for a in catalog.artist_ids
        if implied.artists[a] != stored.artists[a]
    }
    assert not diff_tracks and not diff_artists, (
        f"counters differ from the accepted events (plays, likes, listeners): "
        f"tracks {diff_tracks}, artists {diff_artists}"
    )
    run = counts_reconcile()
    assert run.drift == 0, f"reconciliation found drift: {run.details[:5]}"
    assert run.events == len(want_ids)
    return implied


def _reasons_checked(events: dict[str, dict], *, stateful: bool) -> None:
    """Credited + filtered = accepted, each event under the reason it should have; fills
    each event's "reason" with the stored one."""
    stored = dict(Event.objects.values_list("id", "reason"))
    wrong = []
    for event_id, event in events.items():
        event["reason"] = stored[uuid.UUID(event_id)]
        want = reason_expected(event)
        limited = stateful and not want and event["reason"] in LIMITS
        if want != event["reason"] and not limited:
            wrong.append((event_id, want, event["reason"]))
    assert not wrong, f"{len(wrong)} events under the wrong reason (want, stored): {wrong[:5]}"
    credited = sum(1 for e in events.values() if not e["reason"])
    filtered = FilteredHour.objects.aggregate(n=models.Sum("events"))["n"] or 0
    assert credited + filtered == len(events), (
        f"credited {credited} + filtered {filtered} != accepted {len(events)}"
    )


def _variant_stored(ledger: Ledger, event_id: str) -> dict:
    """The accepted event of this id that was stored (its only one, unless the client sent
    different events under the id)."""
    variants = ledger.variants.get(event_id) or [ledger.accepted[event_id]]
    if len(variants) == 1:
        return dict(variants[0])
    row = Event.objects.get(id=event_id)
    same = [
        v
        for v in variants
        if (v["type"], v["track"], v["listener"]) == (row.type, row.track_id, row.listener)
    ]
    assert same, (
        f"event {event_id} was stored as {row.type} {row.track_id} by {row.listener}, "
        f"which no 202 accepted under this id: {variants}"
    )
    # The test knows the server's stamps (ts when absent) only roughly: take the closest.
    return dict(min(same, key=lambda v: abs(_ts_of(v, row.ts) - row.ts)))


def _ts_of(event: dict, default: datetime) -> datetime:
    return datetime.fromisoformat(event["ts"]) if "ts" in event else default


def latency_report(sends: list[Send]) -> str:
    durations = sorted(s.duration for s in sends)
    if not durations:
        return "no requests"
    p99 = durations[min(len(durations) - 1, int(len(durations) * 0.99))]
    return f"{len(durations)} requests, max {durations[-1]:.3f}s, p99 {p99:.3f}s"


# --- services that tests stop and start ------------------------------------------------------
# `make test` gives these tests a PostgreSQL server and a RabbitMQ node of their own
# (scripts/fault-services.sh, named by these variables), so the rest of the suite runs
# beside them on the machine's; run alone, they stop and start the machine's.
FAULT_SERVICES = os.environ.get("MVSIC_FAULT_SERVICES")
RABBITMQ_NODE = os.environ.get("MVSIC_FAULT_RABBITMQ_NODE")


def _run(*command: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def rabbitmqctl(*args: str) -> list[str]:
    """A rabbitmqctl command line for the broker these tests use."""
    return ["rabbitmqctl", *(["-n", RABBITMQ_NODE] if RABBITMQ_NODE else []), *args]


def broker_stop() -> None:
    done = _run(*rabbitmqctl("stop_app"))
    assert done.returncode == 0, f"rabbitmqctl stop_app failed: {done.stderr}"


def broker_start() -> None:
    """Start the broker's application (or the whole node) and wait until it serves."""
    if _run(*rabbitmqctl("start_app")).returncode != 0:
        if FAULT_SERVICES:
            _run("sh", FAULT_SERVICES, "start", timeout=180)
        else:
            _run("rabbitmq-server", "-detached")
    done = _run(*rabbitmqctl("await_startup", "--timeout", "120"), timeout=150)
    assert done.returncode == 0, f"RabbitMQ did not come back: {done.stderr}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
                conn.connect()
            # This process's publisher holds a connection the restart broke: start afresh.
            relay_stop()
            return
        except Exception:
            time.sleep(0.5)
    raise AssertionError("RabbitMQ started but does not accept AMQP connections")


@contextlib.contextmanager
def broker_stopped() -> Iterator[None]:
    """RabbitMQ's application stopped for the block; always started again afterwards."""
    try:
        broker_stop()
        yield
    finally:
        broker_start()


def _pg_cluster() -> tuple[str, str]:
    # The cluster scripts/ensure-postgres.sh starts: the newest installed version's "main".
    version = sorted((p.name for p in Path("/etc/postgresql").iterdir()), key=float)[-1]
    return version, "main"


def postgres_stop() -> None:
    if FAULT_SERVICES:
        done = _run("sh", FAULT_SERVICES, "postgres-stop")
    else:
        done = _run(
            "pg_ctlcluster", "--skip-systemctl-redirect", *_pg_cluster(), "stop", "-m", "fast"
        )
    assert done.returncode == 0, f"stopping PostgreSQL failed: {done.stderr}"


def postgres_start() -> None:
    if FAULT_SERVICES:
        _run("sh", FAULT_SERVICES, "postgres-start")
    else:
        _run("pg_ctlcluster", "--skip-systemctl-redirect", *_pg_cluster(), "start")
    port = str(settings.DATABASES["default"]["PORT"] or 5432)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if _run("pg_isready", "-h", "127.0.0.1", "-p", port, "-t", "2").returncode == 0:
            connections.close_all()  # connections from before the outage are dead
            return
        time.sleep(0.5)
    raise AssertionError("PostgreSQL did not come back within 90s")


@contextlib.contextmanager
def postgres_stopped() -> Iterator[None]:
    """PostgreSQL stopped for the block (this process's connections closed first); always
    started again afterwards."""
    connections.close_all()
    try:
        postgres_stop()
        yield
    finally:
        postgres_start()


# --- processes -------------------------------------------------------------------------------
class Rig:
    """Starts web and worker processes for one test and stops every one of them afterwards."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.processes: list[WebProcess | WorkerProcess] = []
        self.names: Counter = Counter()

    def _log(self, kind: str) -> Path:
        self.names[kind] += 1
        return self.tmp_path / f"{kind}-{self.names[kind]}.log"

    def worker(self, *, concurrency: int = 2, app: str = "mvsic", **env) -> WorkerProcess:
        worker = WorkerProcess(self._log("worker"), concurrency=concurrency, app=app, **env)
        self.processes.append(worker)
        return worker.start()

    def web(self, *, spool_dir: Path | None = None, workers: int = 2, **env) -> WebProcess:
        spool_dir = spool_dir or self.tmp_path / f"spool-{self.names['web'] + 1}"
        web = WebProcess(self._log("web"), spool_dir, workers=workers, **env)
        self.processes.append(web)
        return web.start()

    def logs(self, kind: str = "") -> str:
        return "\n".join(
            p.log_path.read_text(errors="replace")
            for p in self.processes
            if p.log_path.name.startswith(kind) and p.log_path.exists()
        )

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(Exception):
                process.stop()
        for process in self.processes:
            with contextlib.suppress(Exception):
                process.kill()


@pytest.fixture
def rig(catalog, broker_queues, tmp_path):
    """Processes for one fault test; afterwards every one is stopped and the queues purged."""
    rig = Rig(tmp_path)
    yield rig
    rig.stop_all()
    # Events this process spooled (publish_events during an outage) must not be relayed
    # into the next test's queue.
    local = process_relay().spool
    deadline = time.monotonic() + 30
    while local.size() and time.monotonic() < deadline:
        time.sleep(0.2)
    queues_purge()


def spool_events(directory: Path) -> list[dict]:
    """Payloads waiting in a spool directory (every segment, open or closed)."""
    found = []
    for path in sorted(directory.glob("*.jsonl")):
        try:
            lines = path.read_bytes().splitlines()
        except FileNotFoundError:  # relayed (or empty and cleaned up) since the listing
            continue
        for line in lines:
            with contextlib.suppress(ValueError):
                found.extend(json.loads(line))
    return found


def stamp(started: float) -> float:
    return round(time.monotonic() - started, 1)
