"""In a real browser: a fan plays and likes a track, the artist's open dashboard catches up.

Headless Debian Chromium (never a downloaded browser) driven by Playwright, against the live
server, RabbitMQ and a real Celery worker. CI installs chromium; a missing browser fails.
"""

import io
import json
import os
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.management import call_command

from analytics.models import Event
from tests.conftest import BROWSER_UA, wait_for, worker_running

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = os.environ.get("MVSIC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
FIGURES = ("plays", "likes", "listeners", "plays_24h", "likes_24h", "listeners_24h")


@pytest.fixture
def demo(settings, tmp_path, transactional_db) -> dict:
    """The demo catalog (real synthesised audio), committed so the server threads see it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # The live server thread reads these settings per request.
    settings.MVSIC_PLAY_THRESHOLD_SECONDS = 2
    settings.MVSIC_DASHBOARD_REFRESH_SECONDS = 1
    out = io.StringIO()
    call_command("seed_demo", "--json", "--force", stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not at {CHROMIUM}: install it (apt-get install chromium) or point "
            "MVSIC_CHROMIUM at a Chromium binary. Browser tests never download a browser."
        )
    from playwright.sync_api import sync_playwright

    # Only the browser lives in this block; ORM calls stay outside Playwright's event loop.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def figures(page) -> dict:
    return {name: page.get_attribute(f'[data-figure="{name}"]', "data-value") for name in FIGURES}


def press_play(page) -> None:
    """Click the play button of the native <audio controls> (left end of the bar)."""
    audio = page.locator("audio").first
    page.wait_for_function("document.querySelector('audio').readyState >= 1")
    box = audio.bounding_box()
    audio.click(position={"x": 26, "y": box["height"] / 2})
    page.wait_for_function("!document.querySelector('audio').paused", timeout=5000)


@pytest.fixture
def worker(transactional_db, broker_queues, tmp_path):
    """A real worker that credits plays by the same 2 s threshold as the pages here."""
    with worker_running(tmp_path / "worker.log", MVSIC_PLAY_THRESHOLD_SECONDS=2) as worker:
        yield worker


def test_a_fans_play_and_like_reach_the_open_dashboard_without_reload(
    demo, chromium, live_server, worker
):
    artist = demo["artists"][0]
    track = max(artist["tracks"], key=lambda t: t["duration"])
    plays = []

    # The artist logs in first and keeps the dashboard open: the numbers must arrive by
    # the page's own refresh.
    # bypass_csp: the test's own probes (wait_for_function) are evaluated strings, which the
    # site's policy forbids; test_pages_run_under_their_content_security_policy holds the
    # pages to it.
    studio = chromium.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=True)
    dashboard = studio.new_page()
    dashboard.goto(f"{live_server.url}/accounts/login/")
    dashboard.fill("input[name=username]", artist["username"])
    dashboard.fill("input[name=password]", artist["password"])
    dashboard.click("main button[type=submit]")
    dashboard.wait_for_url(f"**/dashboard/{artist['slug']}/")
    assert figures(dashboard) == dict.fromkeys(FIGURES, "0")
    dashboard.evaluate("window.mvsicSamePage = true")

    # Headless Chromium says "HeadlessChrome" in its user agent, which the crawler list
    # rightly flags: the fan's browser presents itself as the desktop Chrome it is.
    fan = chromium.new_context(user_agent=BROWSER_UA, bypass_csp=True)
    player = fan.new_page()
    player.on(
        "request",
        lambda r: (
            plays.append(r.post_data_json)
            if r.url.endswith("/api/v1/events/") and '"play"' in (r.post_data or "")
            else None
        ),
    )
    player.goto(f"{live_server.url}/tracks/{track['id']}/")
    press_play(player)
    player.wait_for_selector('[data-status][data-state="counted"]', timeout=30_000)
    assert "Play counted" in player.text_content("[data-status]")
    # The audio really played: at least the 2 s threshold of media time went by.
    assert player.evaluate("document.querySelector('audio').currentTime") >= 2
    player.click("[data-like]")
    player.wait_for_selector('[data-like][data-sync="sent"]')
    assert player.get_attribute("[data-like]", "aria-pressed") == "true"
    cookie = next(c for c in fan.cookies() if c["name"] == "mvsic_listener")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert player.evaluate("document.cookie").find("mvsic_listener") == -1
    listener = cookie["value"].split(":")[0]  # signed: "<listener>:<signature>"

    dashboard.wait_for_function(
        "document.querySelector('[data-figure=plays]').dataset.value === '1'"
        " && document.querySelector('[data-figure=likes]').dataset.value === '1'",
        timeout=60_000,
    )
    assert dashboard.evaluate("window.mvsicSamePage") is True  # no reload happened
    assert figures(dashboard) == dict.fromkeys(FIGURES, "1")
    row = f'tr[data-track-id="{track["id"]}"]'
    assert dashboard.text_content(f'{row} [data-col="plays"]') == "1"
    assert dashboard.text_content(f'{row} [data-col="likes"]') == "1"
    assert re.fullmatch(
        r"updated (just now|\d+ s ago)", dashboard.text_content("[data-updated-ago]")
    )
    assert dashboard.is_hidden("[data-refresh-error]")

    # The heart remembers the fan's like on the next visit.
    player.reload()
    assert player.get_attribute("[data-like]", "aria-pressed") == "true"

    assert len(plays) == 1
    event = plays[0]
    assert set(event) == {"id", "ts", "type", "track", "seconds", "source"}  # the cookie: the fan
    assert (event["type"], event["track"], event["source"]) == ("play", track["id"], "track-page")
    assert event["seconds"] >= 2
    # A UUIDv7 (static/mvsic/events.js): its first 48 bits are the milliseconds it was made.
    assert uuid.UUID(event["id"]).version == 7
    assert abs((uuid.UUID(event["id"]).int >> 80) / 1000 - time.time()) < 300
    # The ORM runs outside Playwright's event loop, in a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        stored = pool.submit(
            lambda: Event.objects.values_list("listener", "reason").get(id=event["id"])
        ).result()
    assert stored == (listener, "")  # credited to the fan the cookie names
    studio.close()
    fan.close()


def test_seeks_do_not_count_and_a_replay_after_the_end_counts_again(demo, chromium, live_server):
    track = min(demo["artists"][0]["tracks"], key=lambda t: t["duration"])
    page = chromium.new_page(bypass_csp=True)
    sent = []
    # Plays only: each ended playback also sends its listening summary (a "heard" event).
    page.on(
        "request",
        lambda r: sent.append(r.post_data_json) if '"play"' in (r.post_data or "") else None,
    )
    page.goto(f"{live_server.url}/tracks/{track['id']}/")
    audio = "document.querySelector('audio')"

    def jump_near_end_and_wait_for_end():
        page.evaluate(f"{audio}.currentTime = {audio}.duration - 1")
        page.wait_for_function(f"{audio}.ended", timeout=10_000)

    # Half a second of listening, then a seek to the end: 1.5 s heard, under the threshold.
    press_play(page)
    page.wait_for_function(f"{audio}.currentTime > 0.5")
    jump_near_end_and_wait_for_end()
    page.wait_for_timeout(500)
    assert sent == []
    assert page.get_attribute("[data-player]", "data-plays-sent") is None

    # Play again from the start: 2 s of listening is one play, and only one.
    press_play(page)
    page.wait_for_selector('[data-player][data-plays-sent="1"]', timeout=10_000)
    page.wait_for_timeout(1500)
    jump_near_end_and_wait_for_end()
    # And the replay after that end is a new playback, so it counts again.
    press_play(page)
    page.wait_for_selector('[data-player][data-plays-sent="2"]', timeout=10_000)
    assert [e["type"] for e in sent] == ["play", "play"]
    assert len({e["id"] for e in sent}) == 2
    assert all(e["seconds"] >= 2 for e in sent)
    page.close()


def test_the_dashboard_says_when_a_refresh_fails_and_recovers(demo, chromium, live_server):
    artist = demo["artists"][1]
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", artist["username"])
    page.fill("input[name=password]", artist["password"])
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/dashboard/{artist['slug']}/")

    page.route("**/api/v1/artists/*/stats/", lambda route: route.abort())
    page.wait_for_selector("[data-refresh-error]:not([hidden])", timeout=10_000)
    assert "Could not refresh" in page.text_content("[data-refresh-error]")
    page.wait_for_function(
        "Number(document.querySelector('[data-updated-ago]').dataset.seconds) >= 2"
    )

    page.unroute("**/api/v1/artists/*/stats/")
    page.wait_for_selector("[data-refresh-error]", state="hidden", timeout=15_000)
    assert page.text_content("[data-updated-ago]") in {"updated just now", "updated 1 s ago"}
    context.close()


def test_like_then_unlike_keep_their_order_when_the_servers_clock_steps_back(
    demo, chromium, live_server, worker
):
    """The player stamps events on the page's monotonic clock, anchored to the server's time
    when the page was made: the web host's clock stepping back between a like and an unlike
    (an NTP correction, or another host behind the balancer) does not flip them."""
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    track = demo["artists"][2]["tracks"][0]
    page = chromium.new_context(user_agent=BROWSER_UA).new_page()
    sent = []
    page.on(
        "request",
        lambda r: sent.append(r.post_data_json) if r.url.endswith("/api/v1/events/") else None,
    )
    page.goto(f"{live_server.url}/tracks/{track['id']}/")
    page.click("[data-like]")
    page.wait_for_selector('[data-like][data-sync="sent"]')
    real_now = timezone.now
    # Two minutes back: an NTP step, or a host behind the balancer with a slow clock.
    with mock.patch("django.utils.timezone.now", lambda: real_now() - timedelta(minutes=2)):
        page.click("[data-like]")  # the unlike
        page.wait_for_selector('[data-like][data-sync="sent"]')
    assert [e["type"] for e in sent] == ["like", "unlike"]
    assert sent[0]["ts"] < sent[1]["ts"]

    def latest() -> tuple:
        from analytics.models import LikeState, TrackStats

        if Event.objects.filter(track_id=track["id"]).count() < 2:
            return None
        states = list(
            LikeState.objects.filter(track_id=track["id"]).values_list("liked", flat=True)
        )
        return states, TrackStats.objects.get(track_id=track["id"]).likes

    with ThreadPoolExecutor(1) as pool:  # the ORM stays out of Playwright's event loop
        counted = pool.submit(wait_for, latest, 30).result()
    assert counted == ([False], 0)  # the unlike, sent last, is the fan's latest word
    page.close()


def test_pages_run_under_their_content_security_policy(demo, chromium, live_server):
    """No page needs what its Content-Security-Policy forbids: the browser reports no
    violation while the player, the dashboard and its chart run."""
    artist = demo["artists"][0]
    context = chromium.new_context(user_agent=BROWSER_UA)
    page = context.new_page()
    violations = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/")
    page.goto(f"{live_server.url}/tracks/{artist['tracks'][0]['id']}/")
    page.click("[data-like]")
    page.wait_for_selector('[data-like][data-sync="sent"]')
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", artist["username"])
    page.fill("input[name=password]", artist["password"])
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/dashboard/{artist['slug']}/")
    page.wait_for_selector("[data-chart] canvas")  # uPlot drew the chart
    page.wait_for_timeout(1500)  # a refresh of the figures in place
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui")
    assert violations == []
    context.close()
