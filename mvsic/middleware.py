"""Gives every visitor an anonymous listener id in a long-lived cookie."""

import secrets

from django.conf import settings

from mvsic.listeners import listener_id_valid


class ListenerCookieMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = settings.MVSIC_LISTENER_COOKIE
        current = request.COOKIES.get(name)
        if request.path.startswith("/api/"):
            # API clients send their listener or the cookie; nothing to hand out here.
            request.listener_id = current if listener_id_valid(current) else ""
            return self.get_response(request)
        fresh = None if listener_id_valid(current) else secrets.token_urlsafe(16)
        request.listener_id = current if fresh is None else fresh
        response = self.get_response(request)
        if fresh is not None:
            response.set_cookie(
                name,
                fresh,
                max_age=2 * 365 * 24 * 3600,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
