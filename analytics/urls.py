from django.urls import path

from analytics import api, views

app_name = "analytics"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<slug:slug>/", views.artist_dashboard, name="artist_dashboard"),
]

api_urlpatterns = [
    path("events/", api.EventsView.as_view(), name="events"),  # first: the busiest URL
    path("tracks/<int:track_id>/stats/", api.TrackStatsView.as_view(), name="track_stats"),
    path("artists/<slug:slug>/stats/", api.ArtistStatsView.as_view(), name="artist_stats"),
]
