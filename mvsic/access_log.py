"""gunicorn's access log, less one line per accepted fan event."""

from gunicorn.glogging import Logger

EVENTS_PATH = "/api/v1/events/"


class AccessLogger(Logger):
    """Logs every request except event posts answered 202.

    Mvsic counts accepted events itself, and at thousands a second their lines would cost the
    web process more than capturing them. Refused event posts (4xx, 5xx) are still logged.
    """

    def access(self, resp, req, environ, request_time):
        if resp.status_code == 202 and environ.get("PATH_INFO") == EVENTS_PATH:
            return
        super().access(resp, req, environ, request_time)
