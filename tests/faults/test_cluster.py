"""A three-node RabbitMQ cluster (scripts/rabbitmq-cluster.sh, its own ports, never the main
broker) loses the node that leads the events queue mid-stream and gets it back: web and
worker processes list every node and fail over; every accepted event is counted once and no
request waits."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from kombu import Connection

from analytics import wire
from analytics.models import Event
from tests.conftest import ROOT, wait_for
from tests.faults.conftest import (
    EventStream,
    HttpSender,
    Ledger,
    assert_counted_exactly,
    latency_report,
    stamp,
    wait_idle,
)

pytestmark = [pytest.mark.fault, pytest.mark.integration, pytest.mark.slow]

SCRIPT = ROOT / "scripts" / "rabbitmq-cluster.sh"
NODES = {"a": "mvsic-a@localhost", "b": "mvsic-b@localhost", "c": "mvsic-c@localhost"}


class Cluster:
    def __init__(self, directory: Path):
        self.directory = directory

    def run(self, action: str) -> str:
        done = subprocess.run(
            ["sh", str(SCRIPT), action, str(self.directory)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, f"rabbitmq-cluster.sh {action}: {done.stdout}{done.stderr}"
        return done.stdout.strip()

    def url(self) -> str:
        return self.run("url").splitlines()[-1]

    def queue(self, name: str, *, ask: str) -> dict:
        """rabbitmqctl's view of a queue (type, leader, members), asked of a running node;
        empty while the queue has no leader (a node lists only queues that are online)."""
        out = subprocess.run(
            ["rabbitmqctl", "-q", "-n", ask, "list_queues", "--formatter", "json",
             "name", "type", "leader", "members"],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        return next((row for row in json.loads(out) if row["name"] == name), {})

    def kill(self, node: str) -> None:
        """kill -9 of a node's Erlang VM."""
        key = next(k for k, v in NODES.items() if v == node)
        pid = int((self.directory / key / "rabbitmq.pid").read_text())
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def cluster():
    # Under /tmp and readable by all: Debian's package runs the nodes as the rabbitmq user.
    directory = Path(tempfile.mkdtemp(prefix="mvsic-rabbitmq-cluster-"))
    directory.chmod(0o755)
    cluster = Cluster(directory)
    try:
        cluster.run("start")
        yield cluster
    finally:
        subprocess.run(["sh", str(SCRIPT), "stop", str(directory)], timeout=300)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize(
    "leader",
    [
        NODES["a"],  # the first node listed: every client is connected to it
        NODES["c"],  # no client is connected to it: they wait out the election instead
    ],
)
def test_events_queue_leader_killed_and_back_counts_everything_once(
    cluster, rig, catalog, settings, leader
):
    """kill -9 of the node leading the quorum events queue while events flow through a web
    process that spools and one that waits for the broker's confirm; the node comes back."""
    started = time.monotonic()
    url = cluster.url()
    settings.CELERY_BROKER_URL = url  # this process's view of the queue (wait_idle)
    env = {"CELERY_BROKER_URL": url}
    # A quorum queue's leader is the node of the client that declared it.
    node_url = url.split(";")[list(NODES.values()).index(leader)]
    with Connection(node_url, connect_timeout=5) as conn:
        wire.events_queue()(conn.default_channel).declare()
    rig.worker(**env)
    webs = [rig.web(**env), rig.web(workers=1, MVSIC_ACCEPT_VIA="broker", **env)]
    ledger = Ledger()
    senders = [
        HttpSender(
            web.url,
            EventStream(catalog.track_ids, seed=301 + i),
            ledger,
            requests_total=100_000,
            batch=8,
            rate=8,
        )  # fmt: skip
        for i, web in enumerate(webs)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.wait_done(40)

    events = settings.MVSIC_EVENTS_QUEUE
    before = cluster.queue(events, ask=NODES["b"])
    assert before["type"] == "quorum" and sorted(before["members"]) == sorted(NODES.values())
    assert before["leader"] == leader, before
    alive = next(n for n in NODES.values() if n != leader)
    killed_at = time.monotonic()
    cluster.kill(leader)
    new_leader = wait_for(
        lambda: (q := cluster.queue(events, ask=alive)).get("leader") not in (None, "", leader)
        and q["leader"],
        timeout=30, interval=0.5, message="no new leader was elected",
    )  # fmt: skip
    elected_in = time.monotonic() - killed_at
    counted_at_kill = Event.objects.count()
    time.sleep(max(0.0, killed_at + 15 - time.monotonic()))  # the stream goes on without it
    counted_without_it = Event.objects.count() - counted_at_kill
    cluster.run("start")  # brings the killed node back; it rejoins as a follower
    back_at = time.monotonic()
    for sender in senders:
        sender.wait_done(sender.done + 60)
        sender.halt.set()
    for sender in senders:
        sender.finish()

    after = wait_for(lambda: cluster.queue(events, ask=leader), timeout=30)
    assert sorted(after["members"]) == sorted(NODES.values()), after
    assert set(ledger.statuses()) == {202}, ledger.summary()
    durations = [s.duration for s in ledger.sends]
    assert max(durations) < 2, f"a request waited {max(durations):.2f}s"
    during = [s for s in ledger.sends if s.started + s.duration >= killed_at]
    drained = wait_idle(set(ledger.accepted), timeout=180, what="after the leader's loss")
    assert_counted_exactly(ledger, catalog)
    # The two nodes left took the events and the worker moved to one of them: counting went
    # on while the killed node was away.
    assert counted_without_it > 0, "nothing was counted while the leader's node was away"
    ports = re.findall(r"Connected to amqp://\S+?:(\d+)//", rig.logs("worker"))
    if leader == NODES["a"]:
        assert len(set(ports)) >= 2, f"the worker never reconnected to another node: {ports}"
    print(
        f"\ncluster: {ledger.summary()}; leader {leader} killed -9, {new_leader} elected in "
        f"{elected_in:.1f}s, {counted_without_it} events counted without it, worker connected "
        f"to ports {ports}, killed node back after {back_at - killed_at:.1f}s; all requests: "
        f"{latency_report(ledger.sends)}; from the kill on: {latency_report(during)}; "
        f"idle {drained:.1f}s after the stream; {stamp(started)}s"
    )
