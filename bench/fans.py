"""Who the bench's events come from: fans picked at random among many, each with an address
shared by a few fans, a browser's user agent, and plays of realistic length.

The bench is a server-side client holding an ingest key: it names each event's listener and
passes the fan's address (`ip`). Honest load must be credited, so the pool is large enough
that a fan rarely plays a track twice within its length (too_fast), and an address never
carries more listeners than an hour allows (too_many_listeners). Imported by
bench/openloop.py too: no Django here. bench/lua/events.lua makes fans the same way.
"""

import random

# A fan in ten million: with 100 tracks, two plays of one track by one fan within the
# track's length (180 s) are rare even at the rates of batched ingest and of the soak
# (a few in 10,000 events at most). The rules filter those as too_fast; the report counts them.
LISTENERS = 10_000_000
# Events published straight to the queue (pipeline, soak) come from a pool of returning fans,
# about four events each over the last hour: the 10,000 fans the bench always used, or more
# for longer runs (bench/broker.py). Their plays are credited, and most of their listener rows
# already exist, as on a site with returning fans.
RETURNING_FANS = 10_000
# Fans behind one address: fewer than the 30 an address may carry per hour.
LISTENERS_PER_ADDRESS = 20
# Every bench track lasts 180 s: a play counts from 30 s (or the whole track, if shorter).
PLAY_SECONDS = 31.5
TRACK_SECONDS = 180.0
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def fan(n: int) -> tuple[str, str]:
    """The listener id and IPv4 address of fan number n (1-based)."""
    group = (n - 1) // LISTENERS_PER_ADDRESS
    return f"fan-{n}", f"10.{group >> 16 & 255}.{group >> 8 & 255}.{group & 255}"


def fan_random() -> tuple[str, str]:
    return fan(random.randint(1, LISTENERS))


def ingest_headers(key: str) -> dict[str, str]:
    """Headers of every events request the bench sends: its ingest key, a browser's agent."""
    return {"Authorization": f"Ingest {key}", "User-Agent": BROWSER_UA}
