"""Who sent an event request: a browser (signed listener cookie) or an ingest-key client.

Browsers are identified by the site's cookie and the request's own address and user agent;
only a server-side client holding an ingest key (`Authorization: Ingest <key>`) may name
listeners and pass a fan's address and user agent in each event.
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError

from analytics.models import IngestKey
from mvsic.client_ip import client_ip
from mvsic.listeners import listener_from_cookie

SCHEME = "ingest"
MAX_USER_AGENT = 512


class InvalidIngestKey(Exception):
    """The Authorization header names an ingest key that does not exist or was revoked."""


@dataclass(frozen=True)
class Client:
    ip: str
    user_agent: str
    listener: str | None = None  # the cookie's, for browsers
    ingest_key: int | None = None

    @property
    def trusted(self) -> bool:
        """May name listeners and pass `ip` and `ua` per event."""
        return self.ingest_key is not None


def client_identify(request) -> Client:
    """The client of an event request. Raises InvalidIngestKey for a bad key, DatabaseError
    if a key must be checked and the database does not answer."""
    ip = client_ip(request)
    user_agent = user_agent_clean(request.META.get("HTTP_USER_AGENT", ""))
    header = request.META.get("HTTP_AUTHORIZATION")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() == SCHEME:
            return Client(ip=ip, user_agent=user_agent, ingest_key=ingest_key_check(key.strip()))
    return Client(ip=ip, user_agent=user_agent, listener=listener_from_cookie(request))


def user_agent_clean(value) -> str:
    if not isinstance(value, str):
        return ""
    return value[:MAX_USER_AGENT].encode("utf-8", "backslashreplace").decode()


def ingest_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "backslashreplace")).hexdigest()


class _KeyCache:
    """Keys checked recently, per process: digest -> (key id or None, expiry)."""

    def __init__(self):
        self.entries: dict[str, tuple[int | None, float]] = {}

    def clear(self) -> None:
        self.entries.clear()


key_cache = _KeyCache()


def ingest_key_check(key: str) -> int:
    """The id of a live ingest key; raises InvalidIngestKey."""
    digest = ingest_key_digest(key)
    now = time.monotonic()
    key_id, expiry = key_cache.entries.get(digest, (None, 0.0))
    if expiry <= now:
        try:
            key_id = (
                IngestKey.objects.filter(digest=digest, revoked_at__isnull=True)
                .values_list("id", flat=True)
                .first()
            )
        except DatabaseError:
            if digest not in key_cache.entries:
                raise
            key_id = key_cache.entries[digest][0]  # known before the outage: keep trusting it
        if len(key_cache.entries) > 10_000:
            key_cache.clear()
        key_cache.entries[digest] = (key_id, now + settings.MVSIC_INGEST_KEY_CACHE_SECONDS)
    if key_id is None:
        raise InvalidIngestKey()
    return key_id
