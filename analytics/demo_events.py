"""The events fans of a demo artist would send on one day: who listens, when, from where, on
what, and how (plays, listening summaries, likes, follows, and a few plays the integrity rules
filter). The shapes a dashboard shows: weekends higher than weekdays, evenings in the
listeners' own time zones, growth over the months, one release per artist some weeks ago with
a decaying spike, returning listeners and new ones, likes and a few unlikes, follows and a few
unfollows, a listening summary ("heard") for most playbacks with skips, partial and complete
listens, and a few plays filtered (crawlers, plays shorter than the threshold).

Deterministic: every event's id is a uuid5 of the artist, track, day and index, and each
day's events come from a generator seeded by (seed, artist, day) alone.
"""

import hashlib
import math
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from mvsic.models import Artist, Track

NAMESPACE = uuid.UUID("6f1d3c52-8a8e-4d55-9a8b-3e2f1c0d9b71")
PLAY_THRESHOLD = 30.0  # settings.MVSIC_PLAY_THRESHOLD_SECONDS by default

# (country, weight, UTC offset in hours: close enough for an evening peak)
COUNTRIES = (
    ("US", 30, -5), ("GB", 12, 0), ("DE", 10, 1), ("FR", 7, 1), ("BR", 8, -3),
    ("IN", 7, 5.5), ("JP", 6, 9), ("SE", 5, 1), ("NG", 4, 1), ("MX", 5, -6),
)  # fmt: skip
# (user agent, weight)
AGENTS = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", 22),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.6 Safari/605.1.15", 9),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 6),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", 3),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", 24),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Mobile Safari/537.36", 20),
    ("Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", 3),
    ("Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.6 Mobile/15E148 Safari/604.1", 6),
    ("Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", 3),
)  # fmt: skip
CRAWLERS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
)
# (source, weight, referrers that may come with it: host or "" for none)
SOURCES = (
    ("track-page", 35, ("", "", "", "google.com", "t.co", "reddit.com", "bsky.app")),
    ("artist-page", 25, ("", "", "", "google.com", "instagram.com")),
    ("home", 25, ("",)),
    ("embed", 15, ("blog.nightbus.fm", "forum.synthfans.net", "", "indiemusic.news")),
)
# How likely a session starts in each local hour (0-23): quiet nights, an evening peak.
HOURS = (2, 1, 1, 1, 1, 1, 2, 4, 5, 5, 5, 6, 7, 6, 6, 6, 7, 8, 10, 12, 13, 12, 9, 5)
WEEKDAY = (0.85, 0.8, 0.85, 0.9, 1.05, 1.3, 1.25)  # Monday first
# Today's sessions of each demo artist, before rhythms and spikes: about 300 events a day in
# all, fewer further back (a 400-day run counts some 60,000 events in about a minute).
SESSIONS_PER_DAY = (40, 30, 20)
RELEASE_WEEKS = (5, 3, 8)  # how long ago each demo artist released its newest track


@dataclass
class Listener:
    id: str
    country: str
    offset: float
    ua: str
    address: str


@dataclass
class Plan:
    """One demo artist: its tracks (the newest released `release` days before the end)."""

    artist: Artist
    tracks: list[Track]
    base: float
    release: date | None
    listeners: dict = field(default_factory=dict)


def plans_make(artists: Iterable[Artist], *, last: date) -> list[Plan]:
    """The plans of `artists` with tracks, the n-th with the n-th audience size and release
    (the newest track released some weeks before `last`, when it has more than one)."""
    plans = []
    for i, artist in enumerate(artists):
        tracks = sorted(artist.tracks.all(), key=lambda t: t.id)
        if not tracks:
            continue
        weeks = RELEASE_WEEKS[i % len(RELEASE_WEEKS)]
        release = last - timedelta(weeks=weeks) if len(tracks) > 1 else None
        base = SESSIONS_PER_DAY[i % len(SESSIONS_PER_DAY)]
        plans.append(Plan(artist=artist, tracks=tracks, base=base, release=release))
    return plans


def _rng(*parts) -> random.Random:
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _pick(rng: random.Random, table):
    return rng.choices(table, weights=[row[1] for row in table])[0]


def _listener(plan: Plan, key: str, seed: int) -> Listener:
    """A listener's lasting traits: country, device, home address (some share a household)."""
    known = plan.listeners.get(key)
    if known is None:
        rng = _rng(seed, "listener", plan.artist.id, key)
        country, _, offset = _pick(rng, COUNTRIES)
        home = key if rng.random() < 0.8 else f"{country}-{rng.randrange(40)}"
        address = hashlib.blake2b(f"{seed}/{home}".encode(), digest_size=8).hexdigest()
        listener_id = uuid.uuid5(NAMESPACE, f"{seed}/{plan.artist.id}/{key}").hex
        known = Listener(listener_id, country, offset, _pick(rng, AGENTS)[0], address)
        plan.listeners[key] = known
    return known


def _growth(day: date, first: date, last: date) -> float:
    """From about a third of today's audience a year ago, up to all of it today."""
    ago = (last - day).days
    return 0.15 + 0.85 * math.exp(-ago / 200)


def day_events(plan: Plan, day: date, first: date, last: date, seed: int) -> Iterator[dict]:
    """The events of `plan`'s fans on `day`, in a history from `first` to `last`."""
    artist_id = plan.artist.id
    rng = _rng(seed, artist_id, day.isoformat())
    tracks = plan.tracks
    released = plan.release is not None and day >= plan.release
    newest = tracks[-1] if plan.release is not None else None
    available = [t for t in tracks if t is not newest or released]
    weights = [3.0 if i == 0 else 1.5 if i == 1 else 1.0 for i in range(len(available))]
    spike = 0.0
    if released:
        spike = 2.5 * math.exp(-(day - plan.release).days / 9)
        weights[-1] += 6.0 * spike
    sessions = plan.base * _growth(day, first, last) * WEEKDAY[day.weekday()] * (1 + spike)
    sessions = max(1, round(sessions * rng.uniform(0.85, 1.15)))
    # Returning fans come from a pool that grows with the audience; the rest are new.
    pool = max(10, int(plan.base * 6 * _growth(day, first, last)))
    index = 0

    def event(kind: str, track: Track, listener: Listener, ts: datetime, **extra) -> dict:
        nonlocal index
        index += 1
        stamp = ts.isoformat()
        payload = {
            "id": str(uuid.uuid5(NAMESPACE, f"{seed}/{artist_id}/{track.id}/{day}/{index}")),
            "type": kind,
            "track": track.id,
            "listener": listener.id,
            "ts": stamp,
            "received_at": stamp,
            "seconds": None,
            "source": "",
            "referrer": "",
            "ranges": None,
            "country": listener.country,
            "address": listener.address,
            "ua": listener.ua,
        }
        payload.update(extra)
        return payload

    seen = set()
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    for s in range(sessions):
        if rng.random() < 0.7:
            key = f"r{min(int(rng.paretovariate(1.2)) - 1, pool - 1)}"
            key = key if rng.random() < 0.6 else f"r{rng.randrange(pool)}"
        else:
            key = f"n{day.isoformat()}-{s}"
        if key in seen:  # one session a day per listener: no overlapping plays
            continue
        seen.add(key)
        listener = _listener(plan, key, seed)
        local_hour = rng.choices(range(24), weights=HOURS)[0]
        ts = midnight + timedelta(hours=local_hour - listener.offset, seconds=rng.randrange(3600))
        source, _, referrers = _pick(rng, SOURCES)
        referrer = rng.choice(referrers)
        where = {"source": source, "referrer": referrer}
        last_play: dict[int, datetime] = {}
        for _ in range(min(1 + int(rng.expovariate(0.6)), 8)):
            track = rng.choices(available, weights=weights)[0]
            duration = float(track.duration)
            if track.id in last_play:  # a replay: one credited play per track length
                ts = max(ts, last_play[track.id] + timedelta(seconds=duration + 1))
            roll = rng.random()
            if roll < 0.45:
                heard = duration
            elif roll < 0.8:
                heard = round(rng.uniform(0.1, 0.9) * duration, 1)
            else:
                heard = round(rng.uniform(1.0, max(1.5, 0.1 * duration)), 1)
            threshold = min(PLAY_THRESHOLD, duration)
            if heard >= threshold:
                last_play[track.id] = ts + timedelta(seconds=threshold)
                yield event("play", track, listener, last_play[track.id],
                            seconds=heard, **where)  # fmt: skip
            elif rng.random() < 0.08:  # an older player reporting a skip as a play: short
                yield event("play", track, listener, ts + timedelta(seconds=heard),
                            seconds=heard, **where)  # fmt: skip
            if rng.random() < 0.9:
                if heard < duration and rng.random() < 0.15:  # jumped ahead once
                    cut = round(heard / 2, 1)
                    ranges = [[0.0, cut], [round(duration - (heard - cut), 1), duration]]
                else:
                    ranges = [[0.0, heard]]
                yield event("heard", track, listener, ts + timedelta(seconds=heard),
                            ranges=ranges, **where)  # fmt: skip
            if heard >= duration and rng.random() < 0.04:
                yield event("like", track, listener, ts + timedelta(seconds=heard + 1))
                if rng.random() < 0.1:
                    yield event("unlike", track, listener, ts + timedelta(seconds=heard + 5))
            ts += timedelta(seconds=heard + rng.uniform(1, 20))
    # A few of the day's fans follow the artist, and now and then a returning one stops (a
    # draw of its own: the day's other events are the same with or without it).
    follows = _rng(seed, artist_id, day.isoformat(), "follows")
    for n, key in enumerate(sorted(seen)):
        roll = follows.random()
        if roll < 0.03 or (roll < 0.036 and key.startswith("r")):
            listener = _listener(plan, key, seed)
            stamp = (midnight + timedelta(seconds=follows.randrange(86400))).isoformat()
            yield {
                "id": str(uuid.uuid5(NAMESPACE, f"{seed}/{artist_id}/follow/{day}/{n}")),
                "type": "follow" if roll < 0.03 else "unfollow",
                "track": None,
                "artist": artist_id,
                "listener": listener.id,
                "ts": stamp,
                "received_at": stamp,
                "seconds": None,
                "source": "artist-page",
                "country": listener.country,
                "address": listener.address,
                "ua": listener.ua,
            }
    # Crawlers fetch the player now and then (more as the artist grows): the bot rule
    # filters their plays.
    for _ in range(round(rng.uniform(0, 3) * _growth(day, first, last))):
        track = rng.choice(available)
        key = f"bot{rng.randrange(5)}"
        crawler = _listener(plan, key, seed)
        crawler.ua = CRAWLERS[int(key[3:]) % len(CRAWLERS)]
        ts = midnight + timedelta(seconds=rng.randrange(86400))
        yield event("play", track, crawler, ts, seconds=float(track.duration), source="home")
