"""The address a request comes from, counting only the proxies the deployment trusts."""

from django.conf import settings
from ipware import get_client_ip


def client_ip(request) -> str:
    """The socket address, or with MVSIC_TRUSTED_PROXY_COUNT proxies in front, the address the
    first trusted proxy saw (what a client writes into X-Forwarded-For itself is skipped)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.MVSIC_TRUSTED_PROXY_COUNT
    if proxies == 0:
        return remote
    ip, _routable = get_client_ip(
        request,
        proxy_order="left-most",
        proxy_count=proxies - 1,
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=False,
    )
    return ip or remote
