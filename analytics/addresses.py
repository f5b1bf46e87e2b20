"""Client addresses are never stored: only a keyed hash, with a random key per UTC day.

The key of a day is kept in the database (all web processes hash alike) and deleted by
`analytics.integrity_prune` once the day is over, after which no stored hash can be matched
to an address by hashing every address there is. If the database cannot be reached when a
process first needs the day's key, the process uses a random key of its own until it can.
"""

import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta

from django.db import DatabaseError, IntegrityError, transaction

from analytics.models import AddressKey

HASH_CHARS = 16


class _Keys:
    def __init__(self):
        self.day: date | None = None
        self.key: bytes = b""
        self.shared = False

    def get(self, day: date) -> bytes:
        if self.day != day or not self.shared:
            self._load(day)
        return self.key

    def _load(self, day: date) -> None:
        try:
            key = address_key_get(day=day)
        except DatabaseError:
            if self.day != day:  # keep today's key, shared or not, until the database answers
                self.day, self.key, self.shared = day, secrets.token_bytes(32), False
            return
        self.day, self.key, self.shared = day, key.encode(), True

    def clear(self) -> None:
        self.day = None


keys = _Keys()


def address_hash(ip: str, *, now: datetime) -> str:
    """16 hex characters that stand for `ip` on the UTC day of `now`."""
    digest = hmac.new(keys.get(now.date()), ip.encode(), hashlib.sha256).hexdigest()
    return digest[:HASH_CHARS]


def address_key_get(*, day: date) -> str:
    """The day's key, created on first use (any process may be first)."""
    found = AddressKey.objects.filter(day=day).values_list("key", flat=True).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return AddressKey.objects.create(day=day, key=secrets.token_hex(32)).key
    except IntegrityError:
        return AddressKey.objects.get(day=day).key


def address_keys_prune(*, today: date) -> int:
    """Delete the keys of days before yesterday (yesterday's still hashes late requests)."""
    deleted, _ = AddressKey.objects.filter(day__lt=today - timedelta(days=1)).delete()
    return deleted
