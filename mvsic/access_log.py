"""gunicorn's access log, less one line per accepted fan event."""

import functools

from django.urls import reverse
from gunicorn.glogging import Logger


class AccessLogger(Logger):
    """Logs every request except event posts answered 202.

    Mvsic counts accepted events itself, and at thousands a second their lines would cost the
    web process more than capturing them. Refused event posts (4xx, 5xx) are still logged.
    """

    def access(self, resp, req, environ, request_time):
        if resp.status_code == 202 and environ.get("PATH_INFO") == _events_path():
            return
        super().access(resp, req, environ, request_time)


@functools.cache
def _events_path() -> str:
    # Only workers log requests, and they have loaded the site (and its URLconf) by then.
    return reverse("api:events")
