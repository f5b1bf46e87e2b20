"""Content-Security-Policy: on every page, and no page needs an inline script."""

import re

import pytest
from django.conf import settings

from tests.conftest import ROOT, make_artist, make_track, make_user

pytestmark = pytest.mark.django_db

# A <script> that runs code: not loaded from a file, and not a JSON data block.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if INLINE_SCRIPT.search(text := path.read_text()) or HANDLER_ATTRIBUTE.search(text)
    ]
    assert offenders == []


def test_every_page_has_the_policy_and_runs_no_inline_script(client):
    member = make_user()
    artist = make_artist(members=[member])
    track = make_track(artist)
    admin = make_user(is_staff=True, is_superuser=True)
    pages = [
        "/", f"/artists/{artist.slug}/", f"/tracks/{track.id}/", "/accounts/login/",
        "/api/docs/",
    ]  # fmt: skip
    as_member = [f"/dashboard/{artist.slug}/", f"/dashboard/{artist.slug}/filtered/"]
    as_admin = ["/admin/", "/admin/analytics/event/", "/admin/analytics/pipelinehealth/"]
    for user, urls in ((None, pages), (member, as_member), (admin, as_admin)):
        client.logout()
        if user:
            client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            directives = dict(
                d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";")
            )
            assert directives["script-src"] == "'self'", url
            assert not INLINE_SCRIPT.search(response.content.decode()), url


def test_the_policy_allows_only_the_site_itself():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
