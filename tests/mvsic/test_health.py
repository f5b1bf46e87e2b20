"""Liveness and readiness probes against the real PostgreSQL and RabbitMQ."""

import os
import time

import pytest
from django.db import connection
from django.test import Client

from mvsic.celery import app as celery_app

CLOSED_PORT_BROKER = "amqp://guest:guest@127.0.0.1:1//"


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


@pytest.fixture
def broker_down(monkeypatch):
    """Point the Celery app at a port nothing listens on (its config was read at import)."""
    monkeypatch.setattr(celery_app.conf, "broker_url", CLOSED_PORT_BROKER)
    monkeypatch.setattr(celery_app.conf, "broker_write_url", CLOSED_PORT_BROKER)


@pytest.fixture
def database_down(transactional_db):
    """Make the next connection go to a closed port; transactional so nothing is mid-atomic."""
    connection.close()
    original = dict(connection.settings_dict)
    connection.settings_dict["PORT"] = "1"
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(original)


def test_healthz_answers_without_touching_the_database_or_the_broker(client, broker_down):
    # No django_db mark: any query here would fail the test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_fails_when_the_spool_cannot_be_written(client, settings, tmp_path):
    """A host that cannot spool cannot take events: the load balancer takes it out."""
    readonly = tmp_path / "spool"
    readonly.mkdir()
    readonly.chmod(0o500)
    settings.MVSIC_SPOOL_DIR = readonly
    try:
        response = client.get("/healthz")
        if os.geteuid() == 0:  # root writes anywhere: a full disk is what stops it
            assert response.status_code == 200
            settings.MVSIC_SPOOL_DIR = tmp_path / "file" / "spool"
            (tmp_path / "file").write_text("not a directory")
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["down"] == ["spool"]
    finally:
        readonly.chmod(0o700)


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_names_the_broker_when_it_is_down(client, broker_down):
    started = time.monotonic()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["broker"]
    assert "broker" in body["detail"]
    assert time.monotonic() - started < 1.5  # a refused port answers at once: no retry sleep


def test_readyz_names_the_database_when_it_is_down(client, database_down):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["database"]
    assert "database" in body["detail"]


def test_readyz_names_both_when_both_are_down(client, database_down, broker_down):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database", "broker"]


def test_readyz_recovers_when_the_database_returns(client, transactional_db):
    original = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        assert client.get("/readyz").status_code == 503
    finally:
        connection.settings_dict["PORT"] = original
    assert client.get("/readyz").status_code == 200
