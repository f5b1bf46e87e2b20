"""Admin: raw pipeline data is read-only; the pipeline health page reports real figures."""

import pytest
from django.urls import reverse

from analytics import relay
from analytics.models import Event
from analytics.services.counting import events_count
from analytics.services.poison import poison_record
from analytics.services.reconciliation import counts_reconcile
from tests.conftest import make_payload, make_track, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def test_raw_events_can_be_searched_but_not_added_or_changed(admin_client):
    track = make_track()
    payload = make_payload(track, listener="needle")
    events_count(payloads=[payload])
    listing = admin_client.get(reverse("admin:analytics_event_changelist"), {"q": "needle"})
    assert listing.status_code == 200 and payload["id"] in listing.content.decode()
    assert admin_client.get(reverse("admin:analytics_event_add")).status_code == 403
    change = admin_client.post(
        reverse("admin:analytics_event_change", args=[payload["id"]]), {"listener": "x"}
    )
    assert change.status_code == 403
    assert Event.objects.get().listener == "needle"


def test_pipeline_health_shows_queue_spool_poison_and_reconcile(
    admin_client, broker_queues, settings, tmp_path
):
    settings.MVSIC_SPOOL_DIR = tmp_path
    settings.MVSIC_ACCEPT_VIA = "broker"  # the spool holds only the two events put there
    relay.relay_stop()
    try:
        relay.process_relay().spool.append([make_payload(1), make_payload(1)])
        relay.events_hand_over([make_payload(1) for _ in range(3)])
        poison_record(payload={"id": "bad-1"}, reason="track 9 does not exist")
        counts_reconcile()
        page = admin_client.get("/admin/analytics/pipelinehealth/").content.decode()
    finally:
        relay.relay_stop()
        for segment in tmp_path.glob("*.jsonl"):
            segment.unlink()  # not for the queue that later tests count
    assert "2 events in 1 segment(s)" in page
    assert "track 9 does not exist" in page
    assert "drift 0" in page
    depth = page.split('id="queue-depth">')[1].split("<")[0]
    assert depth.endswith(f" message(s) of up to {settings.MVSIC_EVENTS_PER_MESSAGE} events")
    assert int(depth.split()[0]) >= 1  # the three events, in one message


def test_pipeline_health_is_for_staff_only(client):
    client.force_login(make_user())
    response = client.get("/admin/analytics/pipelinehealth/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admins_block_the_listeners_and_addresses_of_selected_events(admin_client):
    from analytics.models import Block
    from analytics.services.integrity import blocks

    track = make_track()
    spam = make_payload(track, listener="spammer", address="feedfacefeedface")
    events_count(payloads=[spam])
    url = reverse("admin:analytics_event_changelist")
    for action in ("block_listeners", "block_addresses"):
        response = admin_client.post(
            url, {"action": action, "_selected_action": [spam["id"]]}, follow=True
        )
        assert response.status_code == 200
    assert set(Block.objects.values_list("kind", "value")) == {
        ("listener", "spammer"),
        ("address", "feedfacefeedface"),
    }
    assert blocks.expiry == 0.0  # this process reads the blocks again on its next batch
    events_count(payloads=[make_payload(track, listener="spammer", seconds=35.0, ts=spam["ts"])])
    assert list(Event.objects.order_by("reason").values_list("reason", flat=True)) == [
        "",
        "blocked",
    ]


def test_ingest_keys_are_revoked_from_the_admin_never_shown(admin_client):
    from analytics.models import IngestKey
    from analytics.services.ingest_keys import ingest_key_create

    row, key = ingest_key_create(name="partner")
    url = reverse("admin:analytics_ingestkey_changelist")
    listing = admin_client.get(url)
    assert "partner" in listing.content.decode() and key not in listing.content.decode()
    admin_client.post(url, {"action": "revoke", "_selected_action": [row.pk]}, follow=True)
    assert IngestKey.objects.get(name="partner").revoked_at is not None


def test_follow_events_and_states_are_listed_read_only(admin_client):
    track = make_track()
    payload = make_payload(None, "follow", "needle")
    payload.update({"track": None, "artist": track.artist_id})
    events_count(payloads=[payload])
    listing = admin_client.get(reverse("admin:analytics_followevent_changelist"), {"q": "needle"})
    assert listing.status_code == 200 and payload["id"] in listing.content.decode()
    states = admin_client.get(reverse("admin:analytics_followstate_changelist"))
    assert states.status_code == 200 and "needle" in states.content.decode()
    assert admin_client.get(reverse("admin:analytics_followevent_add")).status_code == 403


def test_pipeline_health_shows_each_hosts_counting_workers(admin_client, broker_queues):
    from datetime import timedelta

    from django.utils import timezone

    from analytics.models import WorkerPool

    now = timezone.now()
    WorkerPool.objects.create(
        host="count-a", workers=3, target=3, queue_depth=420, backlog_seconds=4.5, heartbeat_at=now
    )
    WorkerPool.objects.create(
        host="count-b", workers=1, target=1, queue_depth=0, heartbeat_at=now - timedelta(hours=1)
    )
    page = admin_client.get("/admin/analytics/pipelinehealth/").content.decode()
    table = page.split('id="worker-pools"')[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]
    assert "count-a" in rows[0] and '"workers">3<' in rows[0] and "420 message(s)" in rows[0]
    assert "4.5 s" in rows[0] and "stale" not in rows[0]
    assert "count-b" in rows[1] and "stale" in rows[1]


def test_pipeline_health_says_when_no_supervisor_reported(admin_client, broker_queues):
    page = admin_client.get("/admin/analytics/pipelinehealth/").content.decode()
    assert "No elastic supervisor" in page
