"""Edge rate limit per client address: a token bucket, kept as GCRA's one timestamp per key.

With a shared cache (CACHE_URL=redis://...) every web process sees the same buckets; with the
default local-memory cache each process keeps its own, so the limit is per process. Reading
and writing the bucket are two cache calls: racing requests may let a few more through,
which is fine for what this protects (the service, not the counts).
"""

import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

PREFIX = "mvsic:rate:"


class _LocalBuckets:
    """Per-process buckets: a dict is much cheaper than LocMemCache's pickling and locking."""

    def __init__(self):
        self.tat: dict[str, float] = {}

    def get(self, key: str) -> float | None:
        return self.tat.get(key)

    def set(self, key: str, value: float, now: float) -> None:
        if len(self.tat) > 100_000:
            self.tat = {k: t for k, t in self.tat.items() if t > now}
        self.tat[key] = value

    def clear(self) -> None:
        self.tat.clear()


local = _LocalBuckets()


def _shared_cache():
    """The configured cache if other processes share it, else None (use `local`)."""
    backend = caches["default"]
    return None if isinstance(backend, LocMemCache) else backend


def rate_limit_retry_after(key: str, *, now: float | None = None) -> float | None:
    """Take one token from `key`'s bucket: None if allowed, else seconds until it would be."""
    rate = settings.MVSIC_RATE_LIMIT_PER_SECOND
    if rate <= 0:
        return None
    now = time.time() if now is None else now
    interval = 1.0 / rate
    burst = max(settings.MVSIC_RATE_LIMIT_BURST, 1)
    shared = _shared_cache()
    tat = (shared.get(PREFIX + key) if shared else local.get(key)) or now
    new_tat = max(tat, now) + interval
    allowed_at = new_tat - burst * interval
    if now < allowed_at:
        return allowed_at - now
    if shared:
        shared.set(PREFIX + key, new_tat, timeout=int(burst * interval) + 2)
    else:
        local.set(key, new_tat, now)
    return None
