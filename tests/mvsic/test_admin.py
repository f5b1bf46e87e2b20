"""Admin: staff see and change only their own artists; deleting a track hides it."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from analytics.models import Event, TrackStats
from analytics.services.counting import events_count
from mvsic.models import Artist, Track
from tests.conftest import make_artist, make_overseer, make_payload, make_track, make_user

pytestmark = pytest.mark.django_db

EDITOR = ["mvsic.view_artist", "mvsic.change_artist", "mvsic.view_track", "mvsic.change_track",
          "mvsic.delete_track", "analytics.view_event", "analytics.view_trackstats"]  # fmt: skip


@pytest.fixture
def scene():
    editor = make_user(is_staff=True, perms=EDITOR)
    own, other = make_artist("Own Band", members=[editor]), make_artist("Other Band")
    own_track, other_track = make_track(own, "Own Song"), make_track(other, "Their Song")
    events_count(payloads=[make_payload(t, "play", "fan-1") for t in (own_track, other_track)])
    client = Client()
    client.force_login(editor)
    return {"client": client, "editor": editor, "own": own, "other": other,
            "own_track": own_track, "other_track": other_track}  # fmt: skip


def page(client, name, *args):
    return client.get(reverse(f"admin:{name}", args=args))


def test_a_staff_member_sees_only_their_own_artists_rows(scene):
    client = scene["client"]
    for name in ("mvsic_artist_changelist", "mvsic_track_changelist",
                 "analytics_event_changelist", "analytics_trackstats_changelist"):  # fmt: skip
        body = page(client, name).content.decode()
        assert "Own" in body and "Other Band" not in body and "Their Song" not in body, name
    assert page(client, "mvsic_artist_change", scene["other"].pk).status_code == 302  # not found
    assert page(client, "mvsic_track_change", scene["other_track"].pk).status_code == 302


def test_a_staff_member_cannot_add_themselves_to_another_artist(scene):
    client, editor, other = scene["client"], scene["editor"], scene["other"]
    url = reverse("admin:mvsic_artist_change", args=[scene["own"].pk])
    form = page(client, "mvsic_artist_change", scene["own"].pk).content.decode()
    assert 'name="members"' not in form  # members are read-only for them
    client.post(url, {"name": "Own Band", "slug": "own-band", "members": [editor.pk],
                      "tracks-TOTAL_FORMS": 0, "tracks-INITIAL_FORMS": 0})  # fmt: skip
    assert not other.members.filter(pk=editor.pk).exists()


def test_the_permission_or_superuser_sees_every_artist(scene):
    for user in (make_overseer(perms=EDITOR), make_user(is_staff=True, is_superuser=True)):
        client = Client()
        client.force_login(user)
        body = page(client, "mvsic_track_changelist").content.decode()
        assert "Own Song" in body and "Their Song" in body


def test_events_and_counters_cannot_be_deleted_even_by_a_superuser(scene):
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    event = Event.objects.first()
    assert page(client, "analytics_event_delete", event.pk).status_code == 403
    assert (
        'value="delete_selected"' not in page(client, "analytics_event_changelist").content.decode()
    )
    stats = TrackStats.objects.first()
    assert page(client, "analytics_trackstats_delete", stats.pk).status_code == 403
    assert Event.objects.count() == 2


def test_pipeline_health_needs_its_permission(scene):
    assert page(scene["client"], "analytics_pipelinehealth_changelist").status_code == 403
    allowed = Client()
    allowed.force_login(make_user(is_staff=True, perms=["analytics.view_pipelinehealth"]))
    assert page(allowed, "analytics_pipelinehealth_changelist").status_code == 200


def test_deleting_a_track_hides_it_from_fans_and_keeps_its_history(scene, client):
    track = scene["own_track"]
    editor = scene["client"]
    url = reverse("admin:mvsic_track_delete", args=[track.pk])
    assert editor.post(url, {"post": "yes"}).status_code == 302
    track.refresh_from_db()
    assert track.hidden_at is not None
    assert (
        TrackStats.objects.get(track=track).plays == 1
        and Event.objects.filter(track=track).exists()
    )
    assert client.get(f"/tracks/{track.pk}/").status_code == 404
    assert "Own Song" not in client.get(f"/artists/{scene['own'].slug}/").content.decode()
    assert "Own Song" in page(editor, "mvsic_track_changelist").content.decode()  # still there


def test_only_a_superuser_purges_and_the_artists_counters_are_rebuilt(
    scene, django_capture_on_commit_callbacks
):
    track = scene["own_track"]
    url = reverse("admin:mvsic_track_changelist")
    scene["client"].post(url, {"action": "purge", "_selected_action": [track.pk]})
    assert Track.objects.filter(pk=track.pk).exists()  # not offered to an editor
    root = Client()
    root.force_login(make_user(is_staff=True, is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        root.post(url, {"action": "purge", "_selected_action": [track.pk]})
    assert not Track.objects.filter(pk=track.pk).exists()
    assert not Event.objects.filter(track_id=track.pk).exists()
    assert Artist.objects.get(pk=scene["own"].pk).stats.plays == 0


def test_processing_runs_are_listed_with_the_error_of_a_failed_one(scene):
    from mvsic.models import TrackProcessing

    track = Track.objects.create(artist=scene["own"], title="Upload", status="failed")
    TrackProcessing.objects.create(
        track=track, outcome="failed", error="The file holds no audio (png_pipe: video)"
    )
    TrackProcessing.objects.create(
        track=make_track(scene["other"], "Hidden upload"), outcome="failed", error="not yours"
    )
    root = Client()
    root.force_login(make_user(is_staff=True, is_superuser=True))
    runs = root.get(reverse("admin:mvsic_trackprocessing_changelist")).content.decode()
    assert "The file holds no audio (png_pipe: video)" in runs
    detail = root.get(reverse("admin:mvsic_track_change", args=[track.pk])).content.decode()
    assert "The file holds no audio" in detail  # the track's runs, inline
    editor = scene["client"]
    scene["editor"].user_permissions.add(
        *Permission.objects.filter(codename="view_trackprocessing")
    )
    own_runs = editor.get(reverse("admin:mvsic_trackprocessing_changelist")).content.decode()
    assert "png_pipe" in own_runs and "not yours" not in own_runs
