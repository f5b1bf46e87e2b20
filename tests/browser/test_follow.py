"""In a real browser: a fan follows an artist from its page, the worker counts it, the page
shows it on the next visit, and an unfollow undoes it; signed in, the follow is the
account's on another device too. Headless Debian Chromium driven by Playwright against the
live server, RabbitMQ and a real Celery worker, as in tests/test_browser.py."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from analytics.models import ArtistStats, FollowEvent, FollowState
from tests.conftest import BROWSER_UA, make_artist, wait_for, worker_running

pytestmark = [pytest.mark.browser, pytest.mark.integration]
BUTTON = "[data-follow-button]"


def orm(query):
    """Run an ORM query outside Playwright's event loop, in a thread of its own."""

    def run():
        try:
            return query()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


@pytest.fixture
def worker(transactional_db, broker_queues, tmp_path):
    with worker_running(tmp_path / "worker.log") as worker:
        yield worker


def followers(artist_id: int) -> int:
    stats = ArtistStats.objects.filter(artist_id=artist_id).first()
    return stats.followers if stats else 0


def test_a_fan_follows_and_unfollows_from_the_artist_page(chromium, live_server, worker):
    artist = orm(lambda: make_artist("Followed In Chromium"))
    page_url = f"{live_server.url}/artists/{artist.slug}/"
    fan = chromium.new_context(user_agent=BROWSER_UA, bypass_csp=True)
    page = fan.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(page_url)
    page.wait_for_selector(f"{BUTTON}:not([disabled])")
    assert page.get_attribute(BUTTON, "aria-pressed") == "false"

    page.click(BUTTON)
    page.wait_for_selector(f'{BUTTON}[data-sync="sent"]')
    assert page.text_content(BUTTON) == "Following"
    assert page.text_content("[data-count=followers]") == "1"
    wait_for(lambda: orm(lambda: followers(artist.id)) == 1, message="the follow was not counted")

    page.goto(page_url)  # the next visit shows the state the server keeps
    assert page.get_attribute(BUTTON, "aria-pressed") == "true"
    assert page.text_content("[data-count=followers]") == "1"
    page.wait_for_selector(f"{BUTTON}:not([disabled])")
    page.click(BUTTON)
    page.wait_for_selector(f'{BUTTON}[data-sync="sent"]')
    wait_for(lambda: orm(lambda: followers(artist.id)) == 0, message="the unfollow was not counted")
    page.goto(page_url)
    assert page.get_attribute(BUTTON, "aria-pressed") == "false"
    assert orm(lambda: FollowState.objects.get().following) is False
    # The browser's ids are UUIDv7s: time-ordered, the follow's before the unfollow's.
    ids = orm(lambda: list(FollowEvent.objects.order_by("ts").values_list("id", flat=True)))
    assert [i.version for i in ids] == [7, 7]
    assert ids[0] < ids[1]
    assert errors == []  # no script error, no refused inline script (CSP)


def test_a_signed_in_fans_follow_is_theirs_on_another_device(chromium, live_server, worker):
    artist = orm(lambda: make_artist("Followed On Two Devices"))
    page_url = f"{live_server.url}/artists/{artist.slug}/"
    laptop = chromium.new_context(user_agent=BROWSER_UA, bypass_csp=True).new_page()
    laptop.goto(f"{live_server.url}/accounts/signup/")
    laptop.fill("input[name=email]", "fan@example.com")
    laptop.fill("input[name=password1]", "a-Long-tune-42")
    laptop.fill("input[name=password2]", "a-Long-tune-42")
    laptop.click("form.form button[type=submit]")
    laptop.wait_for_url("**/me/")
    laptop.goto(page_url)
    laptop.wait_for_selector(f"{BUTTON}:not([disabled])")
    laptop.click(BUTTON)
    wait_for(lambda: orm(lambda: followers(artist.id)) == 1, message="the follow was not counted")

    phone = chromium.new_context(user_agent=BROWSER_UA, bypass_csp=True).new_page()
    phone.goto(page_url)
    assert phone.get_attribute(BUTTON, "aria-pressed") == "false"  # someone else, for now
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.fill("input[name=username]", "fan@example.com")
    phone.fill("input[name=password]", "a-Long-tune-42")
    phone.click("form.form button[type=submit]")
    phone.wait_for_url("**/me/")
    assert "Followed On Two Devices" in phone.text_content("[data-follows]")
    phone.goto(page_url)
    assert phone.get_attribute(BUTTON, "aria-pressed") == "true"
