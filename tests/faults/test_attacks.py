"""Forged plays against a real web process and worker: each attack runs for a few seconds and
is credited no more than honest listeners could produce in that time; the rest is stored and
filtered under the right reason (credited + filtered = accepted), or rejected at the edge.

The web process trusts one proxy (MVSIC_TRUSTED_PROXY_COUNT=1), so X-Forwarded-For stands for
the address each browser comes from.
"""

import math
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.db.models import Sum
from django.utils import timezone

from analytics.models import Event, FilteredHour, TrackStats
from tests.conftest import BROWSER_UA, make_artist, make_track, make_user
from tests.faults.conftest import EVENTS_URL, wait_idle

pytestmark = [pytest.mark.fault, pytest.mark.integration, pytest.mark.slow]

ATTACK_SECONDS = 3.0
TRACK_SECONDS = 40.0
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


class Browser:
    """One browser: its own cookies, user agent and address (behind the trusted proxy)."""

    def __init__(self, url: str, ip: str, user_agent: str = BROWSER_UA):
        self.url = url
        self.session = requests.Session()
        self.session.headers.update({"X-Forwarded-For": ip, "User-Agent": user_agent})

    def visit(self, track_id: int) -> "Browser":
        """Open the track's page, which hands out the listener cookie."""
        assert self.session.get(f"{self.url}/tracks/{track_id}/", timeout=10).status_code == 200
        return self

    def send(self, events: list[dict]) -> requests.Response:
        return self.session.post(self.url + EVENTS_URL, json=events, timeout=10)


def play(track_id: int, **fields) -> dict:
    return {"id": str(uuid.uuid4()), "type": "play", "track": track_id, "seconds": 35.0, **fields}


class Attack:
    """What an attack got accepted, and the reasons its events were given."""

    def __init__(self):
        self.accepted: set[str] = set()
        self.started = time.monotonic()

    def send(self, browser: Browser, events: list[dict]) -> requests.Response:
        response = browser.send(events)
        if response.status_code == 202:
            rejected = {r["index"] for r in response.json()["rejected"]}
            self.accepted |= {e["id"] for i, e in enumerate(events) if i not in rejected}
        return response

    def running(self) -> bool:
        return time.monotonic() - self.started < ATTACK_SECONDS

    def reasons(self) -> Counter:
        """Wait until every accepted event is counted; its events by reason ('' credited)."""
        self.elapsed = time.monotonic() - self.started
        wait_idle(self.accepted, timeout=60, what="the attack")
        found = Counter(Event.objects.values_list("reason", flat=True))
        assert sum(found.values()) == len(self.accepted)  # credited + filtered = accepted
        filtered = FilteredHour.objects.aggregate(n=Sum("events"))["n"] or 0
        assert filtered == len(self.accepted) - found[""]
        return found

    def slots(self) -> int:
        """The most plays one listener could really make of a track in the attack's time."""
        return math.floor(self.elapsed / TRACK_SECONDS) + 2


@pytest.fixture
def site(rig, transactional_db):
    member = make_user(username="band-member", password="pw-secret-1")
    track = make_track(make_artist(members=[member]), duration=TRACK_SECONDS)
    web = rig.web(MVSIC_TRUSTED_PROXY_COUNT=1, MVSIC_RATE_LIMIT_PER_SECOND=100_000)
    rig.worker()
    return web, track


def test_one_listener_replaying_with_fresh_ids_is_credited_once_per_track_length(site):
    web, track = site
    attack, fan = Attack(), Browser(web.url, "203.0.113.10").visit(track.id)
    while attack.running():
        assert attack.send(fan, [play(track.id) for _ in range(20)]).status_code == 202
    reasons = attack.reasons()
    assert 1 <= reasons[""] <= attack.slots()
    assert set(reasons) <= {"", "too_fast", "too_much_listening"}
    assert (
        reasons["too_fast"] >= len(attack.accepted) - attack.slots() - reasons["too_much_listening"]
    )


def test_thousands_of_listener_ids_in_the_body_are_one_cookie_listener(site):
    web, track = site
    attack, fan = Attack(), Browser(web.url, "203.0.113.11").visit(track.id)
    sent = 0
    while attack.running() and sent < 5000:
        batch = [play(track.id, listener=f"invented-{sent + i}") for i in range(100)]
        sent += len(batch)
        assert attack.send(fan, batch).status_code == 202
    reasons = attack.reasons()
    assert reasons[""] <= attack.slots()
    stored = set(Event.objects.filter(id__in=attack.accepted).values_list("listener", flat=True))
    assert len(stored) == 1 and not any(name.startswith("invented-") for name in stored)


def test_a_fresh_cookie_per_play_from_one_address_is_capped(site, settings):
    web, track = site
    attack = Attack()
    cookies = 0
    while attack.running() or cookies < 60:
        farmed = Browser(web.url, "203.0.113.12").visit(track.id)
        cookies += 1
        assert attack.send(farmed, [play(track.id)]).status_code == 202
    reasons = attack.reasons()
    assert reasons[""] == settings.MVSIC_MAX_LISTENERS_PER_ADDRESS_HOUR
    assert reasons["too_many_listeners"] == cookies - reasons[""]


@pytest.mark.parametrize("agent", [GOOGLEBOT, "python-requests/2.32.3", "curl/8.5.0", ""])
def test_bots_and_scripts_are_not_credited(site, agent):
    web, track = site
    attack = Attack()
    for n in range(10):
        bot = Browser(web.url, f"198.51.100.{n + 1}", user_agent=agent).visit(track.id)
        assert attack.send(
            bot, [play(track.id), {"id": str(uuid.uuid4()), "type": "like", "track": track.id}]
        ).status_code in (202, 400)
    reasons = attack.reasons()
    assert reasons == {"bot": len(attack.accepted)} and len(attack.accepted) >= 10


def test_short_plays_are_filtered_and_plays_without_seconds_rejected(site):
    web, track = site
    attack, fan = Attack(), Browser(web.url, "203.0.113.13").visit(track.id)
    response = attack.send(fan, [play(track.id, seconds=2.0), {**play(track.id), "seconds": None}])
    assert response.status_code == 202
    assert response.json()["rejected"] == [
        {"index": 1, "errors": {"seconds": ["Required for a play: the seconds listened."]}}
    ]
    assert attack.reasons() == {"short": 1}


def test_backdated_and_future_plays_are_rejected_at_the_edge(site):
    web, track = site
    fan = Browser(web.url, "203.0.113.14").visit(track.id)
    now = timezone.now()
    old, ahead = now - timedelta(days=8), now + timedelta(hours=1)
    response = fan.send([play(track.id, ts=old.isoformat()), play(track.id, ts=ahead.isoformat())])
    assert response.status_code == 400
    errors = [r["errors"] for r in response.json()["rejected"]]
    assert errors == [{"ts": ["Is older than 7 days."]}, {"ts": ["Is in the future."]}]


def test_an_artist_playing_their_own_track_is_not_credited(site):
    web, track = site
    member = Browser(web.url, "203.0.113.15")
    login_url = f"{web.url}/accounts/login/"
    member.session.get(login_url, timeout=10)
    form = {"username": "band-member", "password": "pw-secret-1"}
    form["csrfmiddlewaretoken"] = member.session.cookies["csrftoken"]
    logged_in = member.session.post(login_url, data=form, headers={"Referer": login_url})
    assert logged_in.status_code == 200 and "/dashboard/" in logged_in.url
    member.visit(track.id)  # the page links this browser's listener cookie to the login
    attack = Attack()
    assert (
        attack.send(
            member, [play(track.id), {"id": str(uuid.uuid4()), "type": "like", "track": track.id}]
        ).status_code
        == 202
    )
    assert attack.reasons() == {"own_play": 2}
    assert not TrackStats.objects.filter(track=track, plays__gt=0).exists()


def test_likes_sprayed_from_one_address_are_capped(site, settings):
    web, track = site
    attack, fan = Attack(), Browser(web.url, "203.0.113.16").visit(track.id)
    kinds = ["like", "unlike"] * 50
    for start in range(0, len(kinds), 25):
        batch = [
            {"id": str(uuid.uuid4()), "type": kind, "track": track.id}
            for kind in kinds[start : start + 25]
        ]
        assert attack.send(fan, batch).status_code == 202
    reasons = attack.reasons()
    assert reasons == {
        "": settings.MVSIC_MAX_LIKES_PER_ADDRESS_HOUR,
        "too_many_likes": len(kinds) - settings.MVSIC_MAX_LIKES_PER_ADDRESS_HOUR,
    }


def test_honest_listeners_are_credited_in_full(site):
    """Many addresses, one play per listener per track length, a browser's user agent."""
    web, track = site
    other = make_track(track.artist, duration=TRACK_SECONDS)
    attack = Attack()
    fans = [Browser(web.url, f"192.0.2.{n + 1}").visit(track.id) for n in range(40)]
    for fan in fans:
        for t in (track, other):
            assert attack.send(fan, [play(t.id)]).status_code == 202
            assert (
                attack.send(
                    fan, [{"id": str(uuid.uuid4()), "type": "like", "track": t.id}]
                ).status_code
                == 202
            )
    assert attack.reasons() == {"": 160}
    stats = TrackStats.objects.get(track=track)
    assert (stats.plays, stats.likes, stats.listeners) == (40, 40, 40)


def test_a_flood_from_one_address_gets_429_and_others_are_served(rig, transactional_db):
    track = make_track(duration=TRACK_SECONDS)
    web = rig.web(
        MVSIC_TRUSTED_PROXY_COUNT=1,
        MVSIC_RATE_LIMIT_PER_SECOND=5,
        MVSIC_RATE_LIMIT_BURST=10,
        workers=1,  # one process: its buckets are all there are (no shared cache here)
    )
    rig.worker()
    attack = Attack()
    flooder = Browser(web.url, "203.0.113.17").visit(track.id)
    codes = Counter(attack.send(flooder, [play(track.id)]).status_code for _ in range(40))
    assert codes[429] >= 20 and codes[202] >= 10, codes
    limited = flooder.send([play(track.id)])
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    neighbour = Browser(web.url, "203.0.113.18").visit(track.id)
    assert attack.send(neighbour, [play(track.id)]).status_code == 202
    # The flooder credited once a track length (one or two slots), the neighbour once.
    assert 2 <= attack.reasons()[""] <= 3
