"""`manage.py replay_poison`: parked events go back through counting, at most once each."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analytics.models import PoisonEvent, TrackStats
from analytics.services.counting import events_count
from analytics.services.poison import poison_record
from tests.conftest import make_payload, make_track

pytestmark = pytest.mark.django_db


def replay(*args) -> str:
    out = io.StringIO()
    call_command("replay_poison", *args, stdout=out)
    return out.getvalue().strip()


def test_events_parked_by_a_fixed_bug_are_counted_once_and_the_rest_parked_again():
    track = make_track()
    good = [make_payload(track, listener=f"fan-{i}") for i in range(3)]
    for payload in good:  # what an earlier release parked after a deploy bug
        poison_record(payload=payload, reason="ProgrammingError: column does not exist")
    events_count(payloads=[good[0]])  # one of them was counted meanwhile (a redelivery)
    malformed = {**make_payload(track), "type": "skip"}
    poison_record(payload=malformed, reason="malformed payload: type")

    assert replay("--reason", "programmingerror") == "replayed 3: 2 counted, 0 parked again"
    assert TrackStats.objects.get(track=track).plays == 3  # counted once each, by id
    assert list(PoisonEvent.objects.values_list("event_id", flat=True)) == [malformed["id"]]
    assert replay() == "replayed 1: 0 counted, 1 parked again"
    assert replay("--reason", "programmingerror") == "replayed 0: 0 counted, 0 parked again"


def test_since_selects_by_when_they_were_parked():
    track = make_track()
    poison_record(payload=make_payload(track), reason="ProgrammingError")
    assert replay("--since", "2999-01-01") == "replayed 0: 0 counted, 0 parked again"
    assert replay("--since", "2000-01-01T00:00:00Z") == "replayed 1: 1 counted, 0 parked again"


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", ""])
def test_a_bad_since_is_one_readable_line(since):
    with pytest.raises(CommandError, match="is not an ISO date"):
        replay("--since", since)
