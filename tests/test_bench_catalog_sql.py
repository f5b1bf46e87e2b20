"""The bench's catalog at scale, made in SQL, is a catalog the site serves: generated artists,
tags and tracks fill every column the models need, the events land on real tracks, the
counters and trending are what counting would keep, and the phase leaves no trace behind."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from analytics.models import Event, TrackHour, TrackStats, TrendingTrack
from bench.catalog_sql import PREFIX, catalog_add, catalog_drop, counters_rebuild, events_add
from bench.db import analytics_reset
from mvsic.models import Artist, Tag, Track
from tests.conftest import make_artist, make_track

pytestmark = pytest.mark.django_db(transaction=True)  # the rebuild vacuums


def test_a_generated_catalog_is_served_counted_and_removed(client):
    demo = make_track(make_artist("Demo Band"), "Demo Song")
    now = datetime.now(UTC)

    catalog_add(artists=4, per_artist=3)
    events_add(600, now - timedelta(hours=20), now)
    counters_rebuild()

    generated = Artist.objects.filter(slug__startswith=PREFIX)
    assert generated.count() == 4
    assert Track.objects.filter(artist__in=generated).count() == 12
    assert all(a.tags.count() == 3 for a in generated)
    assert Event.objects.count() == 600
    plays = Event.objects.filter(type="play").count()
    assert TrackHour.objects.aggregate(n=Sum("plays"))["n"] == plays
    assert TrackStats.objects.aggregate(n=Sum("plays"))["n"] == plays
    assert TrendingTrack.objects.exists()
    artist = generated.first()
    track = Track.objects.visible().filter(artist=artist).first()
    tag = artist.tags.first()
    for path in ("/", f"/artists/{artist.slug}/", f"/tracks/{track.id}/", f"/tags/{tag.slug}/"):
        assert client.get(path).status_code == 200, path

    analytics_reset()
    catalog_drop()

    assert not Artist.objects.filter(slug__startswith=PREFIX).exists()
    assert not Tag.objects.filter(slug__startswith=PREFIX).exists()
    assert list(Track.objects.all()) == [demo]
