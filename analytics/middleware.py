"""Answers fan events ahead of the site's middleware: the busiest request does the least."""

from django.urls import reverse

from analytics.api.events import events_capture


class EventCaptureMiddleware:
    """POST /api/v1/events/ goes straight to the capture endpoint.

    Sessions, CSRF, users, messages, static files and URL resolving do nothing for it (it is
    anonymous and CSRF-exempt), yet cost more than the capture itself. Keep this right after
    SecurityMiddleware, so the answer still gets its headers and HTTPS redirect. Other methods
    on the same URL take the long way, to EventsView.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.path = reverse("api:events")

    def __call__(self, request):
        if request.method == "POST" and request.path_info == self.path:
            request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware would check it
            return events_capture(request)
        return self.get_response(request)
