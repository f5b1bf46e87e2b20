"""analytics.services.pruning: listener hours are kept only as long as a figure reads them
(every figure, the all-time listeners and reconciliation the same after pruning), event ids
as long as a copy of the event can still arrive."""

from datetime import UTC, datetime, timedelta

import pytest

from analytics.models import ArtistStats, Event, EventKey, ListenerDay, ListenerHour, TrackStats
from analytics.selectors import artist_stats_get
from analytics.services.counting import events_count
from analytics.services.pruning import LISTENER_HOURS_KEPT, integrity_prune
from analytics.services.rebuild import artist_figures_rebuild
from analytics.services.reconciliation import counts_reconcile
from tests.conftest import make_artist, make_payload, make_track

pytestmark = pytest.mark.django_db


def figures(artist, now):
    """What the dashboard and the stats API show for the periods hours serve, and all time."""
    shown = {}
    for period in ("24h", "7d"):
        got = artist_stats_get(artist=artist, now=now, params={"period": period})
        shown[period] = (got["period"], got["previous"], got["listeners_24h"], got["listeners"])
    return shown


def test_old_listener_hours_are_pruned_and_no_figure_changes():
    artist = make_artist()
    track = make_track(artist)
    now = datetime.now(UTC)
    plays = [
        make_payload(track, "play", f"fan-{n}", ts=(now - ago).isoformat())
        for n, ago in enumerate(
            [timedelta(days=5), timedelta(days=4), timedelta(hours=30), timedelta(minutes=5)]
        )
    ]
    events_count(payloads=plays)
    assert ListenerHour.objects.count() == 4
    before = figures(artist, now)

    deleted = integrity_prune(now=now)

    assert deleted["listenerhour"] == 2
    assert all(
        h >= now - LISTENER_HOURS_KEPT for h in ListenerHour.objects.values_list("hour", flat=True)
    )
    assert figures(artist, now) == before
    assert ArtistStats.objects.get(artist=artist).listeners == 4  # all time, exact
    assert ListenerDay.objects.filter(scope="a", key=artist.id).count() == 4
    assert counts_reconcile().drift == 0
    # Rebuilds write no listener hour older than the window: a zone's, and a fix's.
    artist_figures_rebuild(artist=artist)
    assert ListenerHour.objects.count() == 2
    TrackStats.objects.filter(track=track).update(plays=99)
    assert counts_reconcile(fix=True).drift > 0
    assert ListenerHour.objects.count() == 2
    assert figures(artist, now) == before


def test_a_resend_at_the_edge_of_the_dedupe_window_is_counted_once(settings):
    """The oldest event the edge accepts now, resent just before its id may be forgotten
    (a day later: it waited in a spool or a queue), is a duplicate; a minute after that
    day the id is gone, when no copy can still be accepted or waiting."""
    track = make_track()
    now = datetime.now(UTC)
    oldest = now - timedelta(seconds=settings.MVSIC_MAX_EVENT_AGE_SECONDS)
    event = make_payload(track, ts=oldest.isoformat())
    assert events_count(payloads=[event]) == 1
    integrity_prune(now=now + timedelta(days=1, minutes=-1))
    assert EventKey.objects.filter(id=event["id"]).exists()
    assert events_count(payloads=[event]) == 0
    assert TrackStats.objects.get(track=track).plays == 1
    assert integrity_prune(now=now + timedelta(days=1, minutes=1))["eventkey"] == 1
    assert Event.objects.filter(id=event["id"]).exists()  # the event itself is kept
