"""Keys the server makes itself are time-ordered (UUIDv7), like the ones the player sends."""

import time
import uuid

from analytics.models import Event, FollowEvent


def test_server_made_event_ids_are_uuid7_in_time_order():
    for model in (Event, FollowEvent):
        first, second = model().id, model().id
        assert isinstance(first, uuid.UUID)
        assert (first.version, second.version) == (7, 7)
        assert first < second
        assert abs((first.int >> 80) / 1000 - time.time()) < 60
