from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from analytics.urls import api_urlpatterns
from mvsic import accounts, artist_tracks, health, track_manage, views
from mvsic.artist_settings import artist_profile, artist_settings
from mvsic.tokens import TokenObtainView, TokenRevokeView, TokensRevokeAllView

api_v1 = [
    path("auth/token/", TokenObtainView.as_view(), name="auth_token"),
    path("auth/logout/", TokenRevokeView.as_view(), name="auth_logout"),
    path("auth/logoutall/", TokensRevokeAllView.as_view(), name="auth_logout_all"),
    *api_urlpatterns,
]

urlpatterns = [
    # The event API first: it takes most requests, and URLs are tried in order.
    path("api/v1/", include((api_v1, "api"))),
    path("", views.home, name="home"),
    path("artists/", views.artist_index, name="artist_index"),
    path("artists/<slug:slug>/", views.artist_detail, name="artist_detail"),
    path("artists/<slug:slug>/settings/", artist_settings, name="artist_settings"),
    path("artists/<slug:slug>/profile/", artist_profile, name="artist_profile"),
    path("artists/<slug:slug>/picture/", views.artist_picture, name="artist_picture"),
    path(
        "artists/<slug:slug>/tracks/",
        track_manage.artist_tracks_manage,
        name="artist_tracks_manage",
    ),
    path("search", views.search, name="search"),
    path("tags/<slug:slug>/", views.tag_detail, name="tag_detail"),
    path("artists/<slug:slug>/tracks/status/", artist_tracks.artist_tracks, name="artist_tracks"),
    path("artists/<slug:slug>/tracks/upload/", artist_tracks.track_upload, name="track_upload"),
    path(
        "artists/<slug:slug>/tracks/<int:track_id>/retry/",
        artist_tracks.track_retry,
        name="track_retry",
    ),
    path(
        "artists/<slug:slug>/tracks/<int:track_id>/delete/",
        artist_tracks.track_delete,
        name="track_delete",
    ),
    path("tracks/<int:track_id>/", views.track_detail, name="track_detail"),
    path("tracks/<int:track_id>/title/", track_manage.track_title, name="track_title"),
    path("tracks/<int:track_id>/order/", track_manage.track_order, name="track_order"),
    path("tracks/<int:track_id>/publish/", track_manage.track_publish, name="track_publish"),
    path("tracks/<int:track_id>/audio/", views.track_audio, name="track_audio"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("analytics.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (no inline script: CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]
