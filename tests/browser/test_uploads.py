"""In a real browser: an artist uploads a track from the dashboard, watches it turn from
processing to ready without a reload (a real worker processes it), and a fan's Debian
Chromium plays the MP3 it became, with its waveform and at its level; a bad file shows its
reason instead."""

import pytest

from mvsic.models import Track
from tests.browser.test_listening_summary import orm
from tests.conftest import BROWSER_UA, worker_running
from tests.mvsic import audio_files
from tests.test_browser import demo, press_play  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def worker(demo, settings, transactional_db, broker_queues, tmp_path):  # noqa: F811
    with worker_running(tmp_path / "worker.log", MVSIC_MEDIA_ROOT=settings.MEDIA_ROOT) as w:
        yield w


def studio_page(chromium, live_server, artist):
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", artist["username"])
    page.fill("input[name=password]", artist["password"])
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"**/dashboard/{artist['slug']}/")
    return page


def upload(page, title: str, path) -> None:
    page.fill("[data-upload-form] input[name=title]", title)
    page.set_input_files("[data-upload-form] input[name=audio]", str(path))
    page.click("[data-upload-form] button[type=submit]")
    page.wait_for_selector(f"[data-upload-track] >> text={title}")


def test_an_upload_turns_ready_in_place_and_a_fan_plays_the_mp3(
    demo,  # noqa: F811
    chromium,
    live_server,
    worker,
    tmp_path,
):
    artist = demo["artists"][0]
    page = studio_page(chromium, live_server, artist)
    source = audio_files.tone(tmp_path / "new-song.flac", seconds=6)
    upload(page, "New Song", source)
    row = page.locator("[data-upload-track]", has_text="New Song")
    assert row.get_attribute("data-status") == "processing"
    page.evaluate("window.mvsicSamePage = true")
    page.wait_for_selector(
        "[data-upload-track][data-status=ready] >> text=New Song", timeout=60_000
    )
    assert page.evaluate("window.mvsicSamePage") is True  # refreshed in place, no reload
    track = orm(lambda: Track.objects.get(title="New Song"))
    assert track.audio.name.endswith(".mp3")

    fan = chromium.new_context(user_agent=BROWSER_UA, bypass_csp=True).new_page()
    types = []
    fan.on(
        "response",
        lambda r: types.append(r.headers.get("content-type")) if "/audio/" in r.url else None,
    )
    fan.goto(f"{live_server.url}/tracks/{track.id}/")
    press_play(fan)
    fan.wait_for_function("document.querySelector('audio').currentTime > 1", timeout=10_000)
    assert fan.evaluate("document.querySelector('audio').duration") == pytest.approx(6, abs=0.2)
    assert "audio/mpeg" in types
    # The waveform is drawn from the peaks, and the track's level is brought towards
    # -14 LUFS: a 0.3 sine measures about -11.2 LUFS, so a volume of about 10^(-2.8/20).
    assert fan.get_attribute("[data-waveform]", "data-drawn") == str(len(track.peaks))
    volume = fan.evaluate("document.querySelector('audio').volume")
    assert volume == pytest.approx(10 ** ((-14 - track.loudness) / 20), abs=0.01)
    assert volume < 1


def test_a_bad_upload_shows_its_reason_on_the_dashboard(
    demo,  # noqa: F811
    chromium,
    live_server,
    worker,
    tmp_path,
):
    artist = demo["artists"][1]
    page = studio_page(chromium, live_server, artist)
    upload(page, "Cover", audio_files.png_image(tmp_path / "cover.mp3"))
    page.wait_for_selector("[data-upload-track][data-status=failed]", timeout=60_000)
    reason = page.inner_text("[data-upload-track][data-status=failed] [data-failure]")
    assert "holds no audio" in reason
    assert page.locator("[data-upload-track][data-status=failed] [data-retry]").count() == 1
