"""Gives every visitor an anonymous listener id in a long-lived, signed, HttpOnly cookie."""

from mvsic.listeners import listener_cookie_set, listener_from_cookie, listener_new
from mvsic.services import listener_user_link

LINKED_SESSION_KEY = "mvsic_listener_linked"


class ListenerCookieMiddleware:
    """Hands out the cookie on pages (not the API), and links it to a logged-in account so
    that an artist member's own plays are not credited. Keep it after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        current = listener_from_cookie(request)
        if request.path.startswith("/api/"):
            request.listener_id = current or ""
            return self.get_response(request)
        request.listener_id = current or listener_new()
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            linked = f"{request.listener_id}:{user.pk}"
            if request.session.get(LINKED_SESSION_KEY) != linked:
                listener_user_link(listener=request.listener_id, user=user)
                request.session[LINKED_SESSION_KEY] = linked
        response = self.get_response(request)
        if current is None:
            listener_cookie_set(response, request.listener_id)
        return response
