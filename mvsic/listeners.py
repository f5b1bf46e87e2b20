"""The anonymous listener id: a random token in a cookie the server signs, scripts cannot read."""

import re
import secrets

from django.conf import settings

LISTENER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
COOKIE_SALT = "mvsic.listener"
COOKIE_MAX_AGE = 2 * 365 * 24 * 3600


def listener_id_valid(value) -> bool:
    """A listener id is 1-64 characters of A-Z, a-z, 0-9, '_' or '-'."""
    return isinstance(value, str) and LISTENER_RE.fullmatch(value) is not None


def listener_from_cookie(request) -> str | None:
    """The listener id of a request's signed cookie; None if absent, unsigned or tampered."""
    value = request.get_signed_cookie(settings.MVSIC_LISTENER_COOKIE, None, salt=COOKIE_SALT)
    return value if listener_id_valid(value) else None


def listener_new() -> str:
    return secrets.token_urlsafe(16)


def listener_cookie_set(response, listener: str) -> None:
    response.set_signed_cookie(
        settings.MVSIC_LISTENER_COOKIE,
        listener,
        salt=COOKIE_SALT,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
