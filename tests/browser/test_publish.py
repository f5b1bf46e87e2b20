"""In a real browser, the whole path of a new song: an artist uploads a file from the
dashboard and waits for it to turn ready; a fan plays it past the threshold and follows the
artist; the artist's open dashboard shows the play and the follower without a reload. Real
web server, RabbitMQ, a real Celery worker (processing and counting) and Debian Chromium."""

import pytest

from mvsic.models import Track
from tests.browser.test_follow import BUTTON
from tests.browser.test_listening_summary import orm
from tests.browser.test_uploads import studio_page, upload
from tests.conftest import BROWSER_UA, worker_running
from tests.mvsic import audio_files
from tests.test_browser import demo, press_play  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def worker(demo, settings, transactional_db, broker_queues, tmp_path):  # noqa: F811
    with worker_running(
        tmp_path / "worker.log",
        MVSIC_MEDIA_ROOT=settings.MEDIA_ROOT,
        MVSIC_PLAY_THRESHOLD_SECONDS=2,
    ) as worker:
        yield worker


def test_an_uploaded_song_is_played_and_its_artist_followed_on_the_open_dashboard(
    demo,  # noqa: F811
    chromium,
    live_server,
    worker,
    tmp_path,
):
    artist = demo["artists"][0]
    dashboard = studio_page(chromium, live_server, artist)
    assert dashboard.get_attribute("[data-figure=followers]", "data-value") == "0"
    plays_before = int(dashboard.get_attribute("[data-figure=plays]", "data-value"))
    upload(dashboard, "First Light", audio_files.tone(tmp_path / "first-light.flac", seconds=6))
    dashboard.evaluate("window.mvsicSamePage = true")
    dashboard.wait_for_selector(
        "[data-upload-track][data-status=ready] >> text=First Light", timeout=60_000
    )
    track = orm(lambda: Track.objects.get(title="First Light"))

    fan = chromium.new_context(user_agent=BROWSER_UA, bypass_csp=True).new_page()
    fan.goto(f"{live_server.url}/tracks/{track.id}/")
    press_play(fan)
    fan.wait_for_selector('[data-status][data-state="counted"]', timeout=30_000)
    assert fan.evaluate("document.querySelector('audio').currentTime") >= 2
    fan.goto(f"{live_server.url}/artists/{artist['slug']}/")
    assert "First Light" in fan.text_content("main")
    fan.wait_for_selector(f"{BUTTON}:not([disabled])")
    fan.click(BUTTON)
    fan.wait_for_selector(f'{BUTTON}[data-sync="sent"]')

    dashboard.wait_for_function(
        f"document.querySelector('[data-figure=plays]').dataset.value === '{plays_before + 1}'"
        " && document.querySelector('[data-figure=followers]').dataset.value === '1'",
        timeout=60_000,
    )
    assert dashboard.evaluate("window.mvsicSamePage") is True  # refreshed in place
