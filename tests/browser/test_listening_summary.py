"""In a real browser: a playback's listening summary ("heard") reaches the artist's figures.

A fan arrives from another site, plays the start of a track, seeks to its middle and plays
on, then the page is hidden: the player sends one summary of the ranges it played, by
beacon, and the worker stores which twentieths of the track were heard and for how long.
Headless Debian Chromium driven by Playwright against the live server, RabbitMQ and a real
Celery worker, as in tests/test_browser.py.
"""

import io
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core.management import call_command
from django.db import connections

from analytics.models import Event
from tests.conftest import BROWSER_UA, wait_for, worker_running
from tests.test_browser import press_play

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PARTS = 20  # the worker's twentieths of a track: bit k is the k-th 5%
AUDIO = "document.querySelector('audio')"
# Blog.Example.com as the linking page names itself; the player sends its host in lower case.
REFERRER_PAGE = "http://Blog.Example.com/posts/new-music"
REFERRER_HOST = "blog.example.com"
# Chromium does not show Playwright a beacon's body: the page keeps a copy of each one sent.
BEACON_COPIES = """
    window.mvsicBeacons = [];
    const sendBeacon = navigator.sendBeacon.bind(navigator);
    navigator.sendBeacon = (url, data) => {
        data.text().then((text) => window.mvsicBeacons.push(JSON.parse(text)));
        return sendBeacon(url, data);
    };
"""


@pytest.fixture
def demo(settings, tmp_path, transactional_db) -> dict:
    """The demo catalog (real synthesised audio), committed so the server threads see it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MVSIC_PLAY_THRESHOLD_SECONDS = 2  # read by the live server thread per request
    out = io.StringIO()
    call_command("seed_demo", "--json", "--force", stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


@pytest.fixture
def worker(transactional_db, broker_queues, tmp_path):
    """A real worker that credits plays by the same 2 s threshold as the pages here."""
    with worker_running(tmp_path / "worker.log", MVSIC_PLAY_THRESHOLD_SECONDS=2) as worker:
        yield worker


def orm(query):
    """Run an ORM query outside Playwright's event loop, in a thread of its own."""

    def run():
        try:
            return query()
        finally:
            connections.close_all()  # the thread's own connection, or it outlives the test

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def parts_heard(ranges, duration: float) -> set[int]:
    """The parts (twentieths) of the track of which at least half lies in `ranges`."""
    part = duration / PARTS
    return {
        k
        for k in range(PARTS)
        if sum(max(0.0, min(b, (k + 1) * part) - max(a, k * part)) for a, b in ranges) >= part / 2
    }


def bits_parts(bits: int) -> set[int]:
    return {k for k in range(PARTS) if bits >> k & 1}


def visibility_set(page, state: str) -> None:
    """What the browser does when the fan leaves the tab ("hidden") or comes back."""
    page.evaluate(
        """(state) => {
            Object.defineProperty(document, "visibilityState", {
                configurable: true, get: () => state });
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def play_until(page, seconds: float) -> float:
    """Let the audio play to `seconds` of the track, pause it, and return where it stopped."""
    page.wait_for_function(f"{AUDIO}.currentTime >= {seconds}", timeout=20_000)
    return page.evaluate(f"() => {{ {AUDIO}.pause(); return {AUDIO}.currentTime; }}")


def test_a_hidden_page_sends_one_summary_of_what_was_heard(demo, chromium, live_server, worker):
    artist = demo["artists"][0]
    track = max(artist["tracks"], key=lambda t: t["duration"])
    duration = track["duration"]
    middle = round(duration / 2)

    fan = chromium.new_context(user_agent=BROWSER_UA, bypass_csp=True)
    page = fan.new_page()
    page.add_init_script(BEACON_COPIES)
    plays, answers = [], []
    page.on(
        "request",
        lambda r: plays.append(r.post_data_json) if '"play"' in (r.post_data or "") else None,
    )
    page.on(
        "response",
        lambda r: answers.append(r.status) if r.url.endswith("/api/v1/events/") else None,
    )
    page.goto(f"{live_server.url}/tracks/{track['id']}/", referer=REFERRER_PAGE)
    assert page.evaluate("document.referrer").startswith("http://blog.example.com/")

    # The start of the track, then a seek to its middle (not heard) and a little more.
    press_play(page)
    first_end = play_until(page, 4)
    page.evaluate(f"{AUDIO}.currentTime = {middle}")
    page.wait_for_function(f"!{AUDIO}.seeking && Math.abs({AUDIO}.currentTime - {middle}) < 0.01")
    page.evaluate(f"() => {AUDIO}.play()")
    second_end = play_until(page, middle + 3)
    played = [[0.0, first_end], [middle, second_end]]
    assert page.get_attribute("[data-player]", "data-summaries-sent") is None  # not yet
    page.wait_for_selector('[data-player][data-plays-sent="1"]', timeout=10_000)

    # The fan switches to another tab: the page is hidden, and says what was heard.
    visibility_set(page, "hidden")
    page.wait_for_selector('[data-player][data-summaries-sent="1"]', timeout=5_000)
    # Nothing played since: the page going away (pagehide) sends no second summary.
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: false}))")
    page.wait_for_function("window.mvsicBeacons.length >= 1")
    page.wait_for_timeout(500)
    beacons = page.evaluate("window.mvsicBeacons")
    assert page.get_attribute("[data-player]", "data-summaries-sent") == "1"
    page.close(run_before_unload=True)
    fan.close()

    assert len(plays) == 1
    assert plays[0]["referrer"] == REFERRER_HOST  # plays say where the fan came from, too
    assert answers == [202, 202]  # the play (fetch) and the summary (beacon) were taken
    assert len(beacons) == 1
    summary = beacons[0]
    assert set(summary) == {"id", "ts", "type", "track", "ranges", "source", "referrer"}
    assert (summary["track"], summary["source"], summary["referrer"]) == (
        track["id"],
        "track-page",
        REFERRER_HOST,
    )
    ranges = summary["ranges"]
    assert len(ranges) == 2, ranges
    # Where the player saw playback start and stop: each end at most a timeupdate (~0.25 s,
    # up to MAX_STEP_SECONDS) before the pause.
    for (start, end), (played_start, played_end) in zip(ranges, played, strict=True):
        assert start == pytest.approx(played_start, abs=0.25)
        assert played_end - 1 <= end <= played_end + 0.01

    def stored():
        rows = list(
            Event.objects.filter(track_id=track["id"], type="heard").values(
                "id", "seconds", "heard", "referrer", "reason"
            )
        )
        return rows or None

    rows = orm(lambda: wait_for(stored, 60, message="the worker stored no summary"))
    sent_seconds = sum(end - start for start, end in ranges)
    played_seconds = sum(end - start for start, end in played)
    heard = rows[0]
    assert str(heard["id"]) == summary["id"]
    assert heard["referrer"] == REFERRER_HOST
    assert heard["seconds"] == pytest.approx(sent_seconds, abs=0.01)
    assert heard["seconds"] == pytest.approx(played_seconds, abs=1.0)
    # The parts heard are those the audio was driven through, give or take the part at each
    # edge of a range.
    part = duration / PARTS
    edges = [edge for pair in played for edge in pair]
    fuzzy = {k for k in range(PARTS) for e in edges if abs((k + 0.5) * part - e) <= part}
    expected = parts_heard(played, duration)
    assert heard["heard"] is not None
    got = bits_parts(heard["heard"])
    assert got ^ expected <= fuzzy, (sorted(got), sorted(expected), sorted(fuzzy))
    assert 0 in got  # the first 5%, played through
    assert orm(lambda: Event.objects.filter(track_id=track["id"], type="heard").count()) == 1

    # The artist's figures: one playback started, heard in part (7 s of 42: over 10% and 5 s).
    token = requests.post(
        f"{live_server.url}/api/v1/auth/token/",
        json={"username": artist["username"], "password": artist["password"]},
        timeout=10,
    ).json()["token"]
    stats_url = f"{live_server.url}/api/v1/tracks/{track['id']}/stats/"
    want = {"starts": 1, "complete": 0, "partial": 1, "skip": 0}
    seen = {}

    def completion_reported() -> bool:
        response = requests.get(stats_url, headers={"Authorization": f"Token {token}"}, timeout=10)
        seen["completion"] = response.json().get("completion", "(no completion field)")
        return seen["completion"] == want

    try:
        wait_for(completion_reported, 30)
    except AssertionError:
        pytest.fail(f"the track's stats report completion {seen['completion']!r}, not {want!r}")


def test_the_end_of_a_playback_sends_its_summary_and_a_replay_is_a_new_one(
    demo, chromium, live_server
):
    track = min(demo["artists"][0]["tracks"], key=lambda t: t["duration"])
    page = chromium.new_context(user_agent=BROWSER_UA, bypass_csp=True).new_page()
    page.add_init_script(BEACON_COPIES)
    answers, plays = [], []
    page.on(
        "response",
        lambda r: answers.append(r.status) if r.request.resource_type == "ping" else None,
    )
    page.on(
        "request",
        lambda r: plays.append(r.post_data_json) if '"play"' in (r.post_data or "") else None,
    )
    page.goto(f"{live_server.url}/tracks/{track['id']}/")  # no referrer: none is sent
    summaries = '[data-player][data-summaries-sent="{}"]'

    # A second of the start, a seek (not heard) to near the end while playing, to the end.
    press_play(page)
    page.wait_for_function(f"{AUDIO}.currentTime >= 1")
    seek_from, near_end = page.evaluate(
        f"() => [{AUDIO}.currentTime, {AUDIO}.currentTime = {AUDIO}.duration - 1.5]"
    )
    page.wait_for_function(f"{AUDIO}.ended", timeout=10_000)
    page.wait_for_selector(summaries.format(1), timeout=5_000)
    # Already summarised: leaving the tab now sends nothing more.
    visibility_set(page, "hidden")
    page.wait_for_timeout(500)
    assert page.get_attribute("[data-player]", "data-summaries-sent") == "1"
    visibility_set(page, "visible")

    # Play again: a new playback, whose summary covers only what it played.
    press_play(page)
    replayed = play_until(page, 1)
    visibility_set(page, "hidden")
    page.wait_for_selector(summaries.format(2), timeout=5_000)
    page.wait_for_function("window.mvsicBeacons.length === 2")
    first, second = page.evaluate("window.mvsicBeacons")
    page.wait_for_timeout(500)
    assert answers == [202, 202]
    assert plays and all("referrer" not in play for play in plays)

    assert set(first) == {"id", "ts", "type", "track", "ranges", "source"}
    assert (first["type"], first["track"], first["source"]) == ("heard", track["id"], "track-page")
    (start, end), (after_seek, last) = first["ranges"]
    assert start == 0 and seek_from - 1 <= end <= seek_from + 0.01
    assert after_seek == pytest.approx(near_end, abs=0.3)
    assert last == pytest.approx(track["duration"], abs=0.3)  # heard to the end
    assert second["id"] != first["id"] and second["ts"] > first["ts"]
    [(start, end)] = second["ranges"]
    # Play after the end rewinds to 0 and starts at the first timeupdate after the rewind.
    assert start == pytest.approx(0, abs=0.25) and replayed - 1 <= end <= replayed + 0.01
    page.close()
