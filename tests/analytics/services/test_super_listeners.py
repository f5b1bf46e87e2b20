"""Super listeners: the top 1% of an artist's listeners and their share of its plays."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import selectors
from analytics.services.counting import events_count
from analytics.services.super_listeners import super_listeners_refresh
from tests.conftest import make_artist, make_payload, make_track

pytestmark = pytest.mark.django_db


def test_the_top_one_percent_and_their_share_of_plays():
    artist = make_artist()
    track = make_track(artist, duration=60)
    now = timezone.now()

    def at(minutes):
        return (now - timedelta(minutes=minutes)).isoformat()

    # Two devoted fans, ten minutes between plays; 198 fans with one play each.
    payloads = [
        make_payload(track, "play", f"super-{i}", ts=at(10 * k + i))
        for i in range(2)
        for k in range(50)
    ]
    payloads += [make_payload(track, "play", f"fan-{i}", ts=at(i)) for i in range(198)]
    events_count(payloads=payloads)
    assert super_listeners_refresh(now=now) == 1
    listeners = selectors.artist_stats_get(artist=artist, params={"period": "7d"})["breakdowns"][
        "listeners"
    ]
    # ceil(200 listeners x 1%) = 2, with 100 of the 298 plays.
    assert listeners["super"]["listeners"] == 2
    assert listeners["super"]["plays"] == 100
    assert listeners["super"]["share"] == round(100 / 298, 4)
    # A custom period has none: the ranking is worked out for the periods ending today.
    custom = {
        "period": "custom",
        "from": str(now.date() - timedelta(days=2)),
        "to": str(now.date()),
    }
    assert (
        selectors.artist_stats_get(artist=artist, params=custom)["breakdowns"]["listeners"]["super"]
        is None
    )
