"""The web process's access log: every request but event posts answered 202."""

import runpy
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.urls import reverse
from gunicorn.config import Config

from mvsic.access_log import AccessLogger

EVENTS_PATH = "/api/v1/events/"  # what a client posts to


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "access.log"
    config = Config()
    config.set("accesslog", str(path))
    logger = AccessLogger(config)

    def answer(method: str, path_info: str, status: int) -> None:
        resp = SimpleNamespace(status=f"{status} X", status_code=status, headers=[], sent=10)
        req = SimpleNamespace(headers=[])
        environ = {
            "REQUEST_METHOD": method,
            "RAW_URI": path_info,
            "PATH_INFO": path_info,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
        }
        logger.access(resp, req, environ, timedelta(milliseconds=3))

    answer.lines = lambda: path.read_text().splitlines()
    return answer


def test_the_path_is_the_events_url():
    assert reverse("api:events") == EVENTS_PATH  # the logger asks the URLconf, as here


def test_accepted_events_get_no_line(log_file):
    log_file("POST", EVENTS_PATH, 202)
    assert log_file.lines() == []


@pytest.mark.parametrize("status", [400, 413, 415, 503])
def test_refused_event_posts_are_logged(log_file, status):
    log_file("POST", EVENTS_PATH, status)
    [line] = log_file.lines()
    assert f'"POST {EVENTS_PATH} HTTP/1.1" {status}' in line


def test_other_requests_are_logged(log_file):
    log_file("GET", "/dashboard/", 200)
    log_file("POST", "/accounts/login/", 302)
    assert len(log_file.lines()) == 2


@pytest.mark.parametrize(("value", "logger"), [(None, AccessLogger), ("1", None)])
def test_gunicorn_conf_picks_the_logger(monkeypatch, value, logger):
    if value is None:
        monkeypatch.delenv("GUNICORN_ACCESS_LOG_EVENTS", raising=False)
    else:
        monkeypatch.setenv("GUNICORN_ACCESS_LOG_EVENTS", value)
    conf = runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
    expected = f"{logger.__module__}.{logger.__name__}" if logger else None
    assert conf.get("logger_class") == expected
