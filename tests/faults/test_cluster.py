"""A three-node RabbitMQ cluster (scripts/rabbitmq-cluster.sh, its own ports, never the main
broker) loses the node that leads the events queue mid-stream and gets it back: web and
worker processes list every node and fail over; every accepted event is counted once and no
request waits. On the same cluster, one of two web hosts behind one address is killed with
events in its spool: the other takes every request, and the spool is relayed when the host
comes back."""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from kombu import Connection

from analytics import wire
from analytics.models import Event
from tests.conftest import wait_for
from tests.faults.conftest import (
    CLUSTER_SCRIPT,
    EventStream,
    HttpSender,
    Ledger,
    assert_counted_exactly,
    latency_report,
    spool_events,
    stamp,
    wait_idle,
)
from tests.faults.proxy import RoundRobinProxy

pytestmark = [pytest.mark.fault, pytest.mark.integration, pytest.mark.slow]

NODES = {"a": "mvsic-a@localhost", "b": "mvsic-b@localhost", "c": "mvsic-c@localhost"}


class Cluster:
    def __init__(self, directory: Path):
        self.directory = directory

    def run(self, action: str) -> str:
        done = subprocess.run(
            ["sh", str(CLUSTER_SCRIPT), action, str(self.directory)],
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


@pytest.fixture(scope="module")
def cluster_nodes(cluster_boot):
    """The cluster, booted in the background since the session's first fault test
    (tests/faults/conftest.py), and stopped in the background after this module's tests."""
    cluster_boot.process.wait(timeout=300)
    cluster = Cluster(cluster_boot.directory)
    try:
        cluster.run("start")  # a node the boot could not start says why here
        yield cluster
    finally:
        cluster_boot.stop()


@pytest.fixture
def cluster(cluster_nodes):
    """Every node running and no events queue left by an earlier test: a test declares it
    on the node it wants as the queue's leader."""
    cluster_nodes.run("start")  # brings back a node an earlier test left down, if any
    with Connection(cluster_nodes.url(), connect_timeout=5) as conn:
        wire.events_queue()(conn.default_channel).delete()
    return cluster_nodes


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


def test_web_host_killed_with_a_spool_behind_a_balancer_counts_everything_once(
    cluster, rig, catalog, settings, tmp_path
):
    """Two web hosts (each its own spool directory) behind one round-robin address; one is
    killed -9 holding spooled events, the other takes every request, and the killed host,
    back on its spool directory, relays what it held."""
    started = time.monotonic()
    url = cluster.url()
    settings.CELERY_BROKER_URL = url  # this process's view of the queue (wait_idle)
    env = {"CELERY_BROKER_URL": url}
    rig.worker(**env)
    spools = [tmp_path / "host-a-spool", tmp_path / "host-b-spool"]
    # Host a's relay waits an hour to gather a group: every event it accepts is still in its
    # spool when it is killed.
    slow = {"MVSIC_RELAY_LINGER_SECONDS": 3600, "MVSIC_RELAY_INTERVAL_SECONDS": 3600}
    hosts = [rig.web(spool_dir=spools[0], **slow, **env), rig.web(spool_dir=spools[1], **env)]
    proxy = RoundRobinProxy([host.port for host in hosts])
    ledger = Ledger()
    senders = [
        HttpSender(
            proxy.url,
            EventStream(catalog.track_ids, seed=311 + i),
            ledger,
            requests_total=100_000,
            batch=8,
            rate=8,
        )  # fmt: skip
        for i in range(2)
    ]
    try:
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.wait_done(40)

        # Out of the rotation until its open connections are done: a request in flight at
        # the kill gets no answer, and whether its events reached the spool is unknowable.
        proxy.remove(0)
        wait_for(lambda: proxy.open[0] == 0, timeout=10, message="host a kept its connections")
        hosts[0].kill()  # kill -9 of the master and its workers
        killed_at = time.monotonic()
        held = spool_events(spools[0])
        assert held, "host a's spool was empty at the kill"
        proxy.restore(0)  # back in the rotation, dead: its connections are refused
        served_by_b = proxy.served[1]
        time.sleep(15)  # the stream goes on through host b alone
        served_alone = proxy.served[1] - served_by_b
        assert proxy.refused[0] > 0, "no connection was sent to the dead host"

        restarted = time.monotonic()
        back = rig.web(spool_dir=spools[0], **env)
        up_in = time.monotonic() - restarted
        wait_for(lambda: not spool_events(spools[0]), timeout=60, message="host a did not relay")
        relayed_in = time.monotonic() - restarted
        served_by_a = proxy.served[0]
        proxy.restore(0, back.port)  # its health check passes again
        for sender in senders:
            sender.wait_done(sender.done + 40)
            sender.halt.set()
        for sender in senders:
            sender.finish()
    finally:
        for sender in senders:
            sender.halt.set()
        proxy.close()

    assert set(ledger.statuses()) == {202}, ledger.summary()
    durations = [s.duration for s in ledger.sends]
    assert max(durations) < 2, f"a request waited {max(durations):.2f}s"
    held_ids = {p["id"] for p in held}
    assert held_ids <= set(ledger.accepted), "the spool held events no 202 accepted"
    assert re.search(r"relayed \d+ spooled events", back.log_path.read_text())
    assert proxy.served[0] > served_by_a, "host a took no request after it came back"
    during = [s for s in ledger.sends if s.started + s.duration >= killed_at]
    drained = wait_idle(set(ledger.accepted), timeout=180, what="after host a's return")
    assert_counted_exactly(ledger, catalog)
    print(
        f"\ntwo hosts: {ledger.summary()}; host a killed -9 holding {len(held)} events "
        f"({len(held_ids)} distinct) in its spool; host b alone took {served_alone} "
        f"connections in 15 s, {proxy.refused[0]} refused by host a moved on; host a up "
        f"again in {up_in:.1f}s, its spool relayed {relayed_in:.1f}s after its start; all "
        f"requests: {latency_report(ledger.sends)}; from the kill on: {latency_report(during)}; "
        f"idle {drained:.1f}s after the stream; {stamp(started)}s"
    )
