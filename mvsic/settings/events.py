"""Fan events: what the player reports, what the event API takes, what the integrity rules
credit, and how often the dashboard shows the result."""

from django.core.exceptions import ImproperlyConfigured

from mvsic.settings.environment import env

# Seconds a fan must listen before the page reports a play (whole track if shorter).
MVSIC_PLAY_THRESHOLD_SECONDS = env.float("MVSIC_PLAY_THRESHOLD_SECONDS", default=30.0)
# How often the dashboard refreshes its numbers, in seconds.
MVSIC_DASHBOARD_REFRESH_SECONDS = env.float("MVSIC_DASHBOARD_REFRESH_SECONDS", default=2.0)
MVSIC_LISTENER_COOKIE = "mvsic_listener"
MVSIC_MAX_BATCH = 500
MVSIC_MAX_BODY_BYTES = 1024 * 1024
# Events stamped further than this in the future are rejected.
MVSIC_MAX_CLOCK_SKEW_SECONDS = env.int("MVSIC_MAX_CLOCK_SKEW_SECONDS", default=300)

# --- Integrity: what a credited play is (docs/reliability.md, "Integrity") ---
# Events older than this are rejected at the edge (long enough for offline plays).
MVSIC_MAX_EVENT_AGE_SECONDS = env.int("MVSIC_MAX_EVENT_AGE_SECONDS", default=7 * 24 * 3600)
# A play may report this much more than the track's duration (buffering, clock drift).
MVSIC_PLAY_SLACK_SECONDS = env.float("MVSIC_PLAY_SLACK_SECONDS", default=5.0)
# Listening seconds one listener may be credited with in an hour, as a multiple of 3600.
MVSIC_LISTENING_FACTOR = env.float("MVSIC_LISTENING_FACTOR", default=2.0)
# Distinct listeners, and likes, one address may credit in an hour.
MVSIC_MAX_LISTENERS_PER_ADDRESS_HOUR = env.int("MVSIC_MAX_LISTENERS_PER_ADDRESS_HOUR", default=30)
MVSIC_MAX_LIKES_PER_ADDRESS_HOUR = env.int("MVSIC_MAX_LIKES_PER_ADDRESS_HOUR", default=60)
# Follows and unfollows one address may credit in an hour.
MVSIC_MAX_FOLLOWS_PER_ADDRESS_HOUR = env.int("MVSIC_MAX_FOLLOWS_PER_ADDRESS_HOUR", default=30)
# User agents the crawler list would flag but that are credited (substrings, comma-separated).
MVSIC_BOT_ALLOW = env.list("MVSIC_BOT_ALLOW", default=[])
# Reverse proxies in front of the web processes that append to X-Forwarded-For (0: none).
MVSIC_TRUSTED_PROXY_COUNT = env.int("MVSIC_TRUSTED_PROXY_COUNT", default=0)
if MVSIC_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("MVSIC_TRUSTED_PROXY_COUNT must be 0 or more")
# Event requests per second per client address, and the burst allowed above that (shared
# across web processes through CACHE_URL).
MVSIC_RATE_LIMIT_PER_SECOND = env.float("MVSIC_RATE_LIMIT_PER_SECOND", default=20.0)
MVSIC_RATE_LIMIT_BURST = env.int("MVSIC_RATE_LIMIT_BURST", default=100)
# How long a web process trusts an ingest key it has checked (a revoked key stops after this).
MVSIC_INGEST_KEY_CACHE_SECONDS = env.float("MVSIC_INGEST_KEY_CACHE_SECONDS", default=10.0)
