from django.urls import path

from analytics import fan, views
from analytics.api.events import EventsView
from analytics.api.stats import ArtistEventsView, ArtistStatsView, TrackStatsView

app_name = "analytics"

urlpatterns = [
    path("me/", fan.fan_page, name="fan"),
    path("me/data/", fan.fan_data, name="fan_data"),
    path("me/delete/", fan.fan_delete, name="fan_delete"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<slug:slug>/", views.artist_dashboard, name="artist_dashboard"),
    path("dashboard/<slug:slug>/filtered/", views.artist_filtered, name="artist_filtered"),
]

api_urlpatterns = [
    path("events/", EventsView.as_view(), name="events"),  # first: the busiest URL
    path("tracks/<int:track_id>/stats/", TrackStatsView.as_view(), name="track_stats"),
    path("artists/<slug:slug>/stats/", ArtistStatsView.as_view(), name="artist_stats"),
    path("artists/<slug:slug>/events/", ArtistEventsView.as_view(), name="artist_events"),
]
