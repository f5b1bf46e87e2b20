"""Ingest keys: `manage.py ingest_key` and analytics.services.ingest_keys."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analytics.clients import InvalidIngestKey, ingest_key_check, ingest_key_digest, key_cache
from analytics.models import IngestKey

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("ingest_key", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_create_prints_the_key_once_and_stores_only_its_digest():
    key = run("create", "mobile-backend").strip()
    row = IngestKey.objects.get(name="mobile-backend")
    assert key.startswith("mvk_") and len(key) > 40
    assert row.digest == ingest_key_digest(key) and key not in (row.digest, row.prefix)
    assert ingest_key_check(key) == row.id
    assert "mobile-backend" in run("list") and key not in run("list")


def test_revoke_stops_the_key_once_the_cache_expires():
    key = run("create", "importer").strip()
    ingest_key_check(key)
    assert run("revoke", "importer").strip() == "revoked 'importer'"
    key_cache.clear()
    with pytest.raises(InvalidIngestKey):
        ingest_key_check(key)
    assert "revoked" in run("list")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "twice"), "a key named 'twice' exists already"),
        (("revoke", "nobody"), "no key named 'nobody'"),
        (("create",), "create needs the key's NAME"),
        (("create", " "), "a key's name must be 1-100 characters"),
    ],
)
def test_bad_requests_exit_with_one_readable_line(args, message):
    run("create", "twice")
    with pytest.raises(CommandError, match=message):
        run(*args)
