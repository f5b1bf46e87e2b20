import pytest

from analytics import dimensions
from analytics.dimensions import (
    PAGE_SOURCES,
    REFERRER_MAX,
    country_of,
    device_of,
    referrer_valid,
    source_of,
)

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_MACOS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Safari/605.1.15"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.81 Mobile Safari/537.36"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.81 Safari/537.36"
)
SILK_KINDLE = (
    "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Silk/131.3.1 like Chrome/131.0.6778.200 Safari/537.36"
)
SILK_DESKTOP_MODE = (  # a Fire tablet asking for desktop pages
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Silk/131.3.1 like Chrome/131.0.6778.200 Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLEBOT_SMARTPHONE = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (CHROME_WINDOWS, ("desktop", "Chrome", "Windows")),
        (SAFARI_MACOS, ("desktop", "Safari", "Mac OS X")),
        (FIREFOX_LINUX, ("desktop", "Firefox", "Linux")),
        (SAFARI_IPHONE, ("mobile", "Mobile Safari", "iOS")),
        (CHROME_ANDROID_PHONE, ("mobile", "Chrome Mobile", "Android")),
        (SAFARI_IPAD, ("tablet", "Mobile Safari", "iOS")),
        (CHROME_ANDROID_TABLET, ("tablet", "Chrome", "Android")),
        (SILK_KINDLE, ("tablet", "Amazon Silk", "Android")),
        (SILK_DESKTOP_MODE, ("tablet", "Amazon Silk", "Linux")),
        (GOOGLEBOT, ("other", "Googlebot", "Other")),
        (GOOGLEBOT_SMARTPHONE, ("other", "Googlebot", "Android")),
        ("curl/8.5.0", ("other", "curl", "Other")),
        ("", ("other", "Other", "Other")),
    ],
)
def test_device_of(user_agent, expected):
    assert device_of(user_agent) == expected


def test_device_of_is_cached():
    device_of.cache_clear()
    device_of(CHROME_WINDOWS)
    device_of(CHROME_WINDOWS)
    assert device_of.cache_info().hits == 1


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("8.8.8.8", "US"),  # Google Public DNS (ARIN)
        ("193.0.6.139", "NL"),  # RIPE NCC's web site
        ("202.12.27.33", "JP"),  # M root server, WIDE Project (APNIC)
        ("200.160.2.3", "BR"),  # NIC.br (LACNIC)
        ("2001:4860:4860::8888", "US"),  # Google Public DNS over IPv6
        ("2001:67c:2e8:22::c100:68b", "NL"),  # RIPE NCC's web site over IPv6
        ("::ffff:8.8.8.8", "US"),  # an IPv4 client as a dual-stack socket reports it
    ],
)
def test_country_of_public_addresses(ip, expected):
    assert country_of(ip) == expected


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.1.1",
        "fe80::1",
        "fd00::1",
        "192.0.2.1",  # documentation range
        "2001:db8::1",
        "::ffff:10.0.0.1",
        "",
        "not an address",
        "8.8.8",
        "8.8.8.8:80",
        "256.1.1.1",
    ],
)
def test_country_of_unknown_is_empty(ip):
    assert country_of(ip) == ""


def test_country_of_drops_the_eu_registration(monkeypatch):
    monkeypatch.setattr(dimensions, "country_code", lambda ip: "EU")
    assert country_of("145.218.1.1") == ""


@pytest.mark.parametrize(
    ("source", "referrer", "expected"),
    [
        ("track-page", "", "track"),
        ("artist-page", "", "artist"),
        ("home", "", "home"),
        ("embed", "", "embed"),
        ("", "", "other"),
        ("search", "", "other"),
        ("track", "", "other"),  # the bucket's name is not a page kind the player sends
        ("track-page", "news.example.com", "news.example.com"),
        ("embed", "www.Blog.Example.ORG", "blog.example.org"),
        ("", "WWW.example.com", "example.com"),
        ("home", "www2.example.com", "www2.example.com"),
        ("home", "wwwexample.com", "wwwexample.com"),
    ],
)
def test_source_of(source, referrer, expected):
    assert source_of(source, referrer) == expected


def test_page_sources_are_what_source_of_returns_without_referrer():
    kinds = ("track-page", "artist-page", "home", "embed")
    assert tuple(source_of(kind, "") for kind in kinds) == PAGE_SOURCES


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "news.example.co.uk",
        "WWW.Example.COM",
        "xn--bcher-kva.example",
        "a-b.c-d.e",
        "localhost",
        "1.2.3.4",
        "a" * 63 + ".com",
        ".".join(["a" * 63] * 3 + ["b" * 61]),  # 253 characters
    ],
)
def test_referrer_valid(host):
    assert len(host) <= REFERRER_MAX
    assert referrer_valid(host)


@pytest.mark.parametrize(
    "host",
    [
        "",
        "https://example.com",
        "example.com/path",
        "example.com:8080",
        "example.com.",
        ".example.com",
        "example..com",
        "-example.com",
        "example-.com",
        "exa_mple.com",
        "exa mple.com",
        "example.com\n",
        "bücher.example",
        "user@example.com",
        "[::1]",
        "a" * 64 + ".com",
        ".".join(["a" * 63] * 3 + ["b" * 62]),  # 254 characters
        None,
        42,
    ],
)
def test_referrer_invalid(host):
    assert not referrer_valid(host)
