"""In a real browser, on a phone-sized screen: the artist picks a period with the keyboard.

The dashboard at 390 px wide: the picker is reached and used with the keyboard alone, the
page reloads with the period in its URL and heading, its refreshes ask the stats API for
that same period, and nothing makes the page wider than the screen (tables scroll inside
their own box). Headless Debian Chromium driven by Playwright against the live server.
"""

import pytest

from analytics.services.counting import events_count
from tests.conftest import make_artist, make_payload, make_track, make_user

pytestmark = [pytest.mark.browser, pytest.mark.integration]

WIDTH = 390
PASSWORD = "pw-secret-1"


@pytest.fixture
def artist(settings, transactional_db):
    settings.MVSIC_DASHBOARD_REFRESH_SECONDS = 1  # read by the live server thread per request
    user = make_user("ada", password=PASSWORD)
    artist = make_artist("A Band With Quite A Long Name For A Small Screen", members=[user])
    for i in range(3):
        track = make_track(artist, title=f"A song with a rather long title, number {i}")
        events_count(payloads=[make_payload(track, "play", f"fan-{i}")])
    return artist


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_period_is_picked_with_the_keyboard_on_a_narrow_screen(
    artist,
    chromium,  # noqa: F811
    live_server,
):
    context = chromium.new_context(viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    violations = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server.url}/dashboard/{artist.slug}/")
    page.wait_for_selector("[data-chart] canvas")
    assert "Last 7 days" in page.text_content("[data-period-heading]")
    assert overflow(page) <= WIDTH

    # The keyboard alone: the period list, then past the (unused) dates to the button.
    page.focus("#picker-period")
    page.keyboard.press("ArrowDown")  # 7 days -> 28 days
    assert page.input_value("#picker-period") == "28d"
    assert page.is_disabled("#picker-from")  # dates only for custom: skipped by Tab
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "picker-compare"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Show"
    with page.expect_request(lambda r: "/stats/?period=28d&compare=previous" in r.url):
        page.keyboard.press("Enter")
        page.wait_for_url("**/dashboard/*/?period=28d&compare=previous")
    assert "Last 28 days" in page.text_content("[data-period-heading]")
    assert "last 28 days" in page.text_content("[data-chart-heading]")
    assert page.input_value("#picker-period") == "28d"
    page.wait_for_selector("[data-chart] canvas")
    href = page.get_attribute('[data-csv="tracks"]', "href")
    assert href.endswith("?period=28d&compare=previous&format=csv&table=tracks")
    assert page.text_content('[data-figure="period_plays"]') == "3"
    assert "no change" in page.text_content('[data-delta="plays"]') or "new" in (
        page.text_content('[data-delta="plays"]')
    )
    assert overflow(page) <= WIDTH
    assert violations == []
    context.close()
