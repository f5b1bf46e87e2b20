"""mvsic.client_ip: X-Forwarded-For counts only as far as the trusted proxies reach."""

import pytest
from django.test import RequestFactory

from mvsic.client_ip import client_ip


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "127.0.0.1"),  # no proxy: the header is the client's own words
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # what the client wrote is skipped
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (1, "", "127.0.0.1"),  # reached around the proxy: the socket address
    ],
)
def test_the_client_address_counts_only_trusted_proxies(settings, proxies, forwarded, expected):
    settings.MVSIC_TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().post(
        "/api/v1/events/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
    )
    assert client_ip(request) == expected
