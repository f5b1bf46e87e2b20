"""Fan pages: home, artist and track pages with public counts, the audio file, the cookie."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import ArtistStats, TrackHour, TrackStats
from analytics.services.trending import trending_refresh
from mvsic import selectors, services
from mvsic.melody import melody_render
from mvsic.models import Track
from tests.conftest import make_artist, make_track, make_user

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def audio_track():
    """A track with a real (two-second) WAV in the media storage."""
    artist = make_artist("Sound Check")
    audio = melody_render(seed="test", seconds=2)
    track = services.track_create(artist=artist, title="Two Seconds", audio=audio, duration=2)
    return track, audio


def html(response) -> str:
    return response.content.decode()


# --- home ------------------------------------------------------------------------------------
def test_home_lists_artists_and_tracks_trending_in_the_last_24_hours(client):
    quiet = make_artist("Quiet Band")
    loud = make_artist("Loud Band")
    hit = make_track(loud, "Hit Song")
    make_track(quiet, "Deep Cut")
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    TrackHour.objects.create(track=hit, hour=hour, plays=3)
    trending_refresh()  # what the workers do every minute

    response = client.get("/")

    assert response.status_code == 200
    page = html(response)
    assert "Quiet Band" in page and "Loud Band" in page
    assert "Trending in the last 24 hours" in page
    assert "Hit Song" in page and 'data-recent-plays="3"' in page
    assert "Deep Cut" not in page  # no plays, not trending


def test_home_without_plays_says_nothing_is_trending(client):
    make_track(make_artist("Only Band"))
    trending_refresh()

    page = html(client.get("/"))

    assert "No plays in the last 24 hours yet" in page


def test_home_trending_leaves_out_a_track_hidden_since_the_last_ranking(client):
    hit = make_track(make_artist("Loud Band"), "Hit Song")
    TrackHour.objects.create(track=hit, hour=timezone.now(), plays=3)
    trending_refresh()
    hit.hidden_at = timezone.now()
    hit.save()

    assert "Hit Song" not in html(client.get("/"))


def _catalog_with_history(artists: int, tracks_each: int, hours: int) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for a in range(artists):
        artist = make_artist(f"Band {a:03d}")
        for t in range(tracks_each):
            track = make_track(artist, f"Song {t}")
            TrackHour.objects.bulk_create(
                TrackHour(track=track, hour=now - timedelta(hours=h), plays=1 + t)
                for h in range(hours)
            )
    trending_refresh()


@pytest.mark.parametrize(("artists", "tracks_each", "hours"), [(1, 1, 1), (60, 3, 30)])
def test_home_queries_do_not_grow_with_the_catalog_or_its_hours(
    client, django_assert_num_queries, artists, tracks_each, hours
):
    _catalog_with_history(artists, tracks_each, hours)

    # The newest artists and their tags, and the stored trending list: nothing adds up hours.
    with django_assert_num_queries(3) as captured:
        response = client.get("/")
    # Then the new artists' part is served from the cache for a while: trending only.
    with django_assert_num_queries(1):
        again = client.get("/")

    assert response.status_code == 200
    assert not any("trackhour" in q["sql"] for q in captured.captured_queries)
    assert html(response).count('class="card"') == min(artists, selectors.NEW_ARTISTS)
    new_artists = html(response).split('id="artists-heading"')[1]
    assert html(again).split('id="artists-heading"')[1] == new_artists


def test_home_shows_the_newest_artists_and_links_to_all(client):
    for a in range(selectors.NEW_ARTISTS + 1):
        make_artist(f"Band {a:03d}")

    page = html(client.get("/"))

    assert "Band 012" in page and "Band 001" in page and "Band 000" not in page
    assert page.index("Band 012") < page.index("Band 001")
    assert 'href="/artists/"' in page


def test_all_artists_a_page_at_a_time_by_name(client, django_assert_num_queries):
    for a in range(selectors.ARTISTS_PER_PAGE + 2):
        make_artist(f"Band {a:03d}")

    with django_assert_num_queries(3):  # the count, the page and its tags
        first = html(client.get("/artists/"))
    last = html(client.get("/artists/?page=2"))

    assert "Band 000" in first and "Band 049" not in first and 'href="?page=2"' in first
    assert "Band 049" in last and "Band 000" not in last and "Page 2 of 2" in last
    # A malformed or too large page number is not an error: the first or the last page.
    assert "Band 000" in html(client.get("/artists/?page=abc"))
    assert "Band 049" in html(client.get("/artists/?page=99"))


# --- artist page -----------------------------------------------------------------------------
def test_artist_page_shows_bio_tracks_and_public_counts(client):
    artist = make_artist("Counted")
    artist.bio = "From the <b>coast</b>."
    artist.save()
    counted = make_track(artist, "Counted Song")
    never_played = make_track(artist, "Never Played")
    TrackStats.objects.create(track=counted, plays=12, likes=5, listeners=4)

    response = client.get(f"/artists/{artist.slug}/")

    assert response.status_code == 200
    page = html(response)
    assert "From the &lt;b&gt;coast&lt;/b&gt;." in page  # escaped
    row = page.split(f'data-track-row="{counted.id}"')[1].split("data-track-row")[0]
    assert 'data-count="plays">12<' in row and 'data-count="likes">5<' in row
    # No counter row yet (nothing counted): the page shows zeros, not an error or a blank.
    row = page.split(f'data-track-row="{never_played.id}"')[1]
    assert 'data-count="plays">0<' in row and 'data-count="likes">0<' in row
    assert f'src="/tracks/{counted.id}/audio/"' in page


def test_artist_page_reads_counts_without_a_query_per_track(client, django_assert_max_num_queries):
    artist = make_artist("Many Tracks")
    for i in range(6):
        TrackStats.objects.create(track=make_track(artist, f"Song {i}"), plays=i)

    with django_assert_max_num_queries(6):
        response = client.get(f"/artists/{artist.slug}/")

    assert response.status_code == 200


# --- track page ------------------------------------------------------------------------------
def test_track_page_has_player_like_button_and_counts(client, settings):
    settings.MVSIC_PLAY_THRESHOLD_SECONDS = 7.5
    track = make_track(make_artist("Players"), "Loop", duration=41.5)
    TrackStats.objects.create(track=track, plays=1, likes=2, listeners=1)

    response = client.get(f"/tracks/{track.id}/")

    assert response.status_code == 200
    page = html(response)
    assert f'<audio controls preload="metadata" src="/tracks/{track.id}/audio/">' in page
    assert 'data-count="plays">1</span> play ·' in page
    assert 'data-count="likes">2<' in page
    assert f'data-track="{track.id}"' in page
    assert 'data-duration="41.5"' in page
    assert 'data-threshold="7.5"' in page
    assert 'data-events-url="/api/v1/events/"' in page
    assert "data-like" in page and "data-status" in page
    assert "mvsic/player.js" in page


def test_track_page_without_counter_row_shows_zero(client):
    track = make_track(make_artist("Fresh"), "Brand New")

    page = html(client.get(f"/tracks/{track.id}/"))

    assert 'data-count="plays">0<' in page and 'data-count="likes">0<' in page


def test_a_page_gives_a_signed_httponly_listener_cookie_scripts_cannot_read(client):
    track = make_track()

    response = client.get(f"/tracks/{track.id}/")

    cookie = response.cookies[settings.MVSIC_LISTENER_COOKIE]
    listener, _, signature = cookie.value.partition(":")
    assert listener and signature
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert listener not in html(response)  # the page does not hand it to scripts
    # The next visit keeps the id and does not set the cookie again.
    again = client.get(f"/tracks/{track.id}/")
    assert settings.MVSIC_LISTENER_COOKIE not in again.cookies


def test_a_tampered_cookie_is_replaced(client):
    track = make_track()
    client.cookies[settings.MVSIC_LISTENER_COOKIE] = "chosen-listener"
    response = client.get(f"/tracks/{track.id}/")
    fresh = response.cookies[settings.MVSIC_LISTENER_COOKIE].value
    assert not fresh.startswith("chosen-listener")


def test_a_logged_in_member_is_linked_to_the_cookie_once_per_session(client):
    from mvsic.models import ListenerUser

    user = make_user()
    track = make_track(make_artist(members=[user]))
    client.force_login(user)
    client.get(f"/tracks/{track.id}/")
    [link] = ListenerUser.objects.all()
    assert link.user == user
    assert client.cookies[settings.MVSIC_LISTENER_COOKIE].value.startswith(link.listener + ":")
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/tracks/{track.id}/")
    assert not any("mvsic_listeneruser" in q["sql"] for q in queries)


@pytest.mark.parametrize("path", ["/", "/artists/nobody/", "/accounts/login/"])
def test_every_page_sets_the_listener_cookie(client, path):
    make_artist("Nobody")

    response = client.get(path)

    cookie = response.cookies[settings.MVSIC_LISTENER_COOKIE]
    assert cookie.value and cookie["samesite"] == "Lax"


# --- not found -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/artists/no-such-artist/", "/tracks/999999/", "/tracks/999999/audio/"]
)
def test_unknown_artist_or_track_is_404(client, path):
    assert client.get(path).status_code == 404


def test_track_whose_file_is_missing_is_404(client):
    track = make_track()  # points at tracks/none.wav, which does not exist

    assert client.get(f"/tracks/{track.id}/audio/").status_code == 404


# --- audio -----------------------------------------------------------------------------------
def test_audio_serves_the_whole_wav(client, audio_track):
    track, audio = audio_track

    response = client.get(f"/tracks/{track.id}/audio/")

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["Accept-Ranges"] == "bytes"
    assert int(response["Content-Length"]) == len(audio)
    body = b"".join(response.streaming_content)
    assert body == audio and body[:4] == b"RIFF" and body[8:12] == b"WAVE"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, None),
        ("bytes=-44", None, None),
        ("bytes=10-999999999", 10, None),
    ],
)
def test_audio_serves_a_byte_range_as_206(client, audio_track, header, first, last):
    track, audio = audio_track
    size = len(audio)
    if first is None:  # suffix: the last 44 bytes
        first = size - 44
    last = size - 1 if last is None else last

    response = client.get(f"/tracks/{track.id}/audio/", HTTP_RANGE=header)

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert int(response["Content-Length"]) == last - first + 1
    assert b"".join(response.streaming_content) == audio[first : last + 1]


def test_audio_range_beyond_the_end_is_416(client, audio_track):
    track, audio = audio_track

    response = client.get(f"/tracks/{track.id}/audio/", HTTP_RANGE=f"bytes={len(audio)}-")

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(audio)}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "items=0-5", "bytes=9-3", "bytes=-"])
def test_audio_ignores_ranges_it_does_not_serve_and_sends_everything(client, audio_track, header):
    track, audio = audio_track

    response = client.get(f"/tracks/{track.id}/audio/", HTTP_RANGE=header)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == audio


# --- shared templates: navigation, login, dashboard ------------------------------------------
def test_nav_offers_log_in_to_visitors_and_a_post_log_out_to_members(client):
    assert 'href="/accounts/login/"' in html(client.get("/"))

    client.force_login(make_user("member"))
    page = html(client.get("/"))

    assert 'href="/dashboard/"' in page
    assert '<form class="nav-logout" method="post" action="/accounts/logout/">' in page
    assert "csrfmiddlewaretoken" in page


def test_login_page_logs_an_artist_in_and_opens_their_dashboard(client):
    user = make_user("singer", password="pw-secret-1")
    artist = make_artist("Singer", members=[user])

    assert client.get("/accounts/login/").status_code == 200
    response = client.post(
        "/accounts/login/", {"username": "singer", "password": "pw-secret-1"}, follow=True
    )

    assert response.redirect_chain[-1][0] == f"/dashboard/{artist.slug}/"


def test_login_page_shows_an_error_for_a_wrong_password(client):
    make_user("singer", password="pw-secret-1")

    response = client.post("/accounts/login/", {"username": "singer", "password": "nope"})

    assert response.status_code == 200
    assert 'class="notice notice-error"' in html(response)


def test_dashboard_renders_figures_chart_and_tracks_with_refresh_settings(client, settings):
    settings.MVSIC_DASHBOARD_REFRESH_SECONDS = 1.5
    user = make_user()
    artist = make_artist("Dash", members=[user])
    track = make_track(artist, "Charted")
    TrackStats.objects.create(track=track, plays=4, likes=2, listeners=3)
    ArtistStats.objects.create(artist=artist, plays=4, likes=2, listeners=3)
    client.force_login(user)

    page = html(client.get(f"/dashboard/{artist.slug}/"))

    assert 'data-figure="plays" data-value="4"' in page
    assert 'data-figure="likes" data-value="2"' in page
    assert 'data-figure="listeners" data-value="3"' in page
    for name in ("plays_24h", "likes_24h", "listeners_24h"):
        assert f'data-figure="{name}"' in page
    assert f'data-stats-url="/api/v1/artists/{artist.slug}/stats/"' in page
    assert 'data-refresh-ms="1500"' in page
    assert f'<tr data-track-id="{track.id}">' in page and "Charted" in page
    assert 'id="dashboard-stats"' in page  # the first chart data, without a second request
    assert "vendor/uplot/uPlot.iife.min.js" in page and "analytics/dashboard.js" in page


def test_dashboard_index_lists_the_artists_of_a_member_of_several(client):
    user = make_user()
    make_artist("First Act", members=[user])
    make_artist("Second Act", members=[user])
    client.force_login(user)

    page = html(client.get("/dashboard/"))

    assert 'href="/dashboard/first-act/"' in page and 'href="/dashboard/second-act/"' in page


def test_pages_load_no_third_party_resources(client, audio_track):
    track, _ = audio_track
    user = make_user()
    client.force_login(user)
    make_artist("Mine", members=[user])
    for path in ("/", f"/artists/{track.artist.slug}/", f"/tracks/{track.id}/", "/dashboard/"):
        page = html(client.get(path, follow=True))
        assert "https://" not in page and "http://" not in page and "//cdn" not in page, path


# --- follow button ---------------------------------------------------------------------------
def test_artist_page_shows_the_fans_follow_state_and_followers(client):
    from analytics.models import ArtistStats, FollowState

    artist = make_artist("Followed")
    ArtistStats.objects.create(artist=artist, followers=3)
    client.get("/")
    listener = client.cookies[settings.MVSIC_LISTENER_COOKIE].value.split(":")[0]
    page = html(client.get(f"/artists/{artist.slug}/"))
    assert 'aria-pressed="false"' in page and ">Follow<" in page
    assert 'data-count="followers">3<' in page
    assert f'data-artist="{artist.id}"' in page and "mvsic/follow" in page

    now = timezone.now()
    FollowState.objects.create(
        artist=artist, listener=listener, following=True, ts=now, received_at=now,
        event_id="6f1c1a52-3c1e-4d1b-9b7e-2a6a3b0b9d11",
    )  # fmt: skip
    page = html(client.get(f"/artists/{artist.slug}/"))
    assert 'aria-pressed="true"' in page and ">Following<" in page


def test_a_track_page_gives_the_player_its_loudness_and_waveform(client):
    track = make_track(make_artist("Levels"), "Loud")
    Track.objects.filter(pk=track.pk).update(loudness=-8.5, peaks=[0.1, 0.75, 1.0])
    page = client.get(f"/tracks/{track.id}/").content.decode()
    assert 'data-loudness="-8.5"' in page
    assert 'data-peaks="0.1,0.75,1.0"' in page


def test_a_track_still_processing_or_failed_is_not_for_fans(client):
    for status in ("processing", "failed"):
        track = make_track(make_artist(f"Not Yet {status}"), "Soon")
        Track.objects.filter(pk=track.pk).update(status=status)
        assert client.get(f"/tracks/{track.id}/").status_code == 404
        assert client.get(f"/tracks/{track.id}/audio/").status_code == 404
        assert "Soon" not in client.get(f"/artists/{track.artist.slug}/").content.decode()
