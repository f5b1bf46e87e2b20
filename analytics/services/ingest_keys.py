"""Ingest keys: created once (the key is shown only then), stored hashed, revoked."""

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from analytics.clients import ingest_key_digest
from analytics.models import IngestKey

KEY_BYTES = 32


class IngestKeyError(ValueError):
    """A key cannot be created or revoked as asked; the message says why."""


def ingest_key_create(*, name: str) -> tuple[IngestKey, str]:
    """A new key for the client `name`; returns the row and the key (not stored anywhere)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise IngestKeyError("a key's name must be 1-100 characters")
    key = "mvk_" + secrets.token_urlsafe(KEY_BYTES)
    try:
        with transaction.atomic():
            row = IngestKey.objects.create(name=name, prefix=key[:8], digest=ingest_key_digest(key))
    except IntegrityError as exc:
        raise IngestKeyError(f"a key named {name!r} exists already") from exc
    return row, key


def ingest_key_revoke(*, name: str) -> IngestKey:
    """Revoke a key by name; web processes stop accepting it within
    MVSIC_INGEST_KEY_CACHE_SECONDS."""
    row = IngestKey.objects.filter(name=name).first()
    if row is None:
        raise IngestKeyError(f"no key named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
    return row
