"""reconcile_counts: counters compared with (and rebuilt from) the stored events."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analytics import tasks
from analytics.models import (
    ArtistStats,
    Block,
    Event,
    FilteredHour,
    LikeState,
    ListenerDay,
    ListenerHour,
    ReconcileRun,
    Rollup,
    TrackFiltered,
    TrackHour,
    TrackStats,
)
from analytics.services.counting import events_count
from analytics.services.reconciliation import counts_reconcile
from tests.conftest import make_artist, make_payload, make_track

pytestmark = pytest.mark.django_db


T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def ago(minutes: float) -> str:
    """Minutes before T0 + 30 min: one hour's bucket whatever the clock says."""
    return (T0 + timedelta(minutes=30 - minutes)).isoformat()


@pytest.fixture
def counted():
    artist = make_artist()
    one, two = make_track(artist), make_track(artist)
    # Plays a minute apart: each one a listener could really make (40-second tracks).
    payloads = [make_payload(one, "play", f"fan-{i % 4}", ts=ago(i)) for i in range(12)]
    payloads += [make_payload(two, "play", "fan-9", ts=ago(i)) for i in range(3)]
    payloads += [
        make_payload(one, "like", "fan-1", ts="2026-01-01T10:00:00+00:00"),
        make_payload(one, "unlike", "fan-1", ts="2026-01-01T10:05:00+00:00"),
        make_payload(one, "like", "fan-2"),
        make_payload(two, "like", "fan-9"),
    ]
    events_count(payloads=payloads)
    return artist, one, two


def test_consistent_counters_report_no_drift(counted):
    run = counts_reconcile()
    assert (run.events, run.drift, run.fixed) == (19, 0, False)


def test_drift_is_reported_and_fix_repairs_counters_and_sets(counted):
    artist, one, two = counted
    TrackStats.objects.filter(track=one).update(plays=1000, likes=7)
    ArtistStats.objects.filter(artist=artist).update(listeners=0)
    TrackHour.objects.filter(track=two).delete()
    LikeState.objects.all().delete()
    ListenerDay.objects.filter(scope="t").delete()
    ListenerHour.objects.all().delete()

    run = counts_reconcile()
    # What was changed above (5), and the two tracks whose listener days are gone (2).
    assert run.drift == 7 and not run.fixed
    fields = {(d["table"], d["field"], d["stored"], d["expected"]) for d in run.details}
    assert ("track", "plays", 1000, 12) in fields
    assert ("listener_days", "count", 0, 4) in fields
    assert ("artist", "listeners", 0, 5) in fields
    assert TrackStats.objects.get(track=one).plays == 1000  # a check changes nothing

    assert counts_reconcile(fix=True).fixed
    assert counts_reconcile().drift == 0
    assert (TrackStats.objects.get(track=one).plays, TrackStats.objects.get(track=one).likes) == (
        12,
        1,
    )
    # The sets behind the counters are rebuilt too, so the next events count right.
    assert LikeState.objects.filter(liked=True).count() == 2
    events_count(
        payloads=[make_payload(one, "play", "fan-new"), make_payload(one, "play", "fan-1")]
    )
    stats = TrackStats.objects.get(track=one)
    assert (stats.plays, stats.listeners) == (14, 5)
    assert counts_reconcile().drift == 0


def test_command_exits_non_zero_on_drift_and_zero_after_fix(counted, capsys):
    _, one, _ = counted
    TrackStats.objects.filter(track=one).update(listeners=99)
    with pytest.raises(CommandError, match="1 counters differ"):
        call_command("reconcile_counts")
    assert "listeners: stored 99, events imply 4" in capsys.readouterr().out
    call_command("reconcile_counts", "--fix")
    assert "drift: 1 (repaired)" in capsys.readouterr().out
    call_command("reconcile_counts")
    assert "drift: 0 (none)" in capsys.readouterr().out


def test_periodic_check_records_a_run(counted):
    result = tasks.reconcile_check.apply().get()
    assert result["drift"] == 0 and result["events"] == 19
    assert ReconcileRun.objects.filter(pk=result["run"]).exists()


def test_deleting_a_counted_track_leaves_no_drift(counted, django_capture_on_commit_callbacks):
    artist, one, two = counted
    with django_capture_on_commit_callbacks(execute=True):
        two.delete()
    stats = ArtistStats.objects.get(artist=artist)
    # Only track one remains: 12 plays by fan-0..fan-3, one like (fan-2).
    assert (stats.plays, stats.likes, stats.listeners) == (12, 1, 4)
    assert counts_reconcile().drift == 0


def test_rollups_in_the_artists_zone_are_reconciled(counted):
    artist, one, _ = counted
    ArtistStats.objects.filter(artist=artist).update(zone="Asia/Kolkata")
    run = counts_reconcile()  # hours and days were counted in UTC: off by 5:30 now
    assert run.drift > 0 and "hour" in {d["table"] for d in run.details}
    assert counts_reconcile(fix=True).fixed
    assert counts_reconcile().drift == 0
    Rollup.objects.filter(scope="t", key=one.id, metric="plays").update(n=99)
    assert {d["table"] for d in counts_reconcile().details} == {"rollup"}


def test_filtered_events_are_reconciled_by_reason(counted):
    _, one, _ = counted
    events_count(payloads=[make_payload(one, "play", "fan-short", seconds=3.0)])
    assert counts_reconcile().drift == 0
    FilteredHour.objects.update(events=5)
    TrackFiltered.objects.update(events=7)
    run = counts_reconcile()
    assert sorted((d["table"], d["field"], d["stored"], d["expected"]) for d in run.details) == [
        ("filtered", "events", 5, 1),
        ("filtered_total", "events", 7, 1),
    ]
    assert counts_reconcile(fix=True).fixed
    assert list(FilteredHour.objects.values_list("reason", "events")) == [("short", 1)]
    assert list(TrackFiltered.objects.values_list("reason", "events")) == [("short", 1)]


def test_fix_re_applies_the_rules_to_stored_events(counted):
    """A block added later filters what the listener sent before, once --fix runs."""
    _, one, _ = counted
    Block.objects.create(kind="listener", value="fan-0")
    assert counts_reconcile().drift == 0  # the check trusts the stored reasons
    run = counts_reconcile(fix=True)
    assert run.fixed
    assert (
        Event.objects.filter(listener="fan-0", type="play").exclude(reason="blocked").count() == 0
    )
    stats = TrackStats.objects.get(track=one)
    assert (stats.plays, stats.listeners) == (9, 3)
    assert dict(FilteredHour.objects.values_list("reason", "events")) == {"blocked": 3}
    Block.objects.all().delete()
    assert counts_reconcile(fix=True).fixed
    assert TrackStats.objects.get(track=one).plays == 12
    assert not FilteredHour.objects.exists()


def test_an_artist_without_events_reconciles():
    make_track(make_artist())
    assert counts_reconcile().drift == 0
