"""Gives every visitor an anonymous listener id in a long-lived, signed, HttpOnly cookie."""

from mvsic.listeners import listener_cookie_set, listener_from_cookie, listener_new
from mvsic.services import account_listener_adopt, listener_user_link

LINKED_SESSION_KEY = "mvsic_listener_linked"
ACCOUNT_SESSION_KEY = "mvsic_account_listener"


class ListenerCookieMiddleware:
    """Hands out the cookie on pages (not the API). A signed-in account has a listener id of
    its own (adopted from the cookie it first logs in with): the cookie is set to it, so a
    fan is one listener on every device; logging out hands out a fresh id. The account is
    also linked to its listener so that an artist member's own plays are not credited.
    Keep it after AuthenticationMiddleware."""

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
            account = request.session.get(ACCOUNT_SESSION_KEY)
            if account is None:
                account = account_listener_adopt(user=user, listener=request.listener_id)
                request.session[ACCOUNT_SESSION_KEY] = account
            request.listener_id = account
            linked = f"{account}:{user.pk}"
            if request.session.get(LINKED_SESSION_KEY) != linked:
                listener_user_link(listener=account, user=user)
                request.session[LINKED_SESSION_KEY] = linked
        response = self.get_response(request)
        if getattr(request, "listener_reset", False):
            # Logged out (or the account deleted): the next fan on this device is someone new.
            listener_cookie_set(response, listener_new())
        elif current != request.listener_id:
            listener_cookie_set(response, request.listener_id)
        return response
