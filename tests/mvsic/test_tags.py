"""Tags: members choose a few on the profile form; each tag has a page of its artists."""

import pytest
from django.test import Client

from mvsic.models import Tag
from mvsic.selectors import ARTISTS_PER_PAGE
from mvsic.tags import TagsError, tags_parse
from tests.conftest import make_artist, make_user


def test_free_text_becomes_slugs_first_spelling_kept():
    assert tags_parse(" Dream Pop, lo-fi ,, dream   pop, Électro ") == {
        "dream-pop": "Dream Pop",
        "lo-fi": "lo-fi",
        "electro": "Électro",
    }
    assert tags_parse("") == {}


@pytest.mark.parametrize(
    ("text", "reason"),
    [("a, b, c, d, e, f", "At most 5 tags: you gave 6."), ("rock, !!!", "“!!!” needs a letter")],
)
def test_too_many_or_empty_tags_are_refused_with_a_reason(text, reason):
    with pytest.raises(TagsError, match=reason):
        tags_parse(text)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_member_chooses_tags_on_the_profile_form_and_they_link_to_their_pages():
    member = make_user("member")
    artist = make_artist("Tagged", members=[member])
    Tag.objects.create(slug="dream-pop", name="dream pop")
    client = logged_in(member)
    response = client.post(
        f"/artists/{artist.slug}/profile/", {"name": "Tagged", "tags": "Dream Pop, Lo-Fi"}
    )
    assert response.status_code == 302
    assert sorted(artist.tags.values_list("slug", "name")) == [
        ("dream-pop", "dream pop"),  # the tag already there is reused, not renamed
        ("lo-fi", "Lo-Fi"),
    ]
    assert Tag.objects.count() == 2
    settings_page = client.get(f"/artists/{artist.slug}/settings/")
    assert b'value="dream pop, Lo-Fi"' in settings_page.content
    for page in (f"/artists/{artist.slug}/", "/", "/tags/lo-fi/"):
        assert b'href="/tags/dream-pop/"' in Client().get(page).content

    too_many = client.post(f"/artists/{artist.slug}/profile/", {"name": "T", "tags": "a,b,c,d,e,f"})
    assert too_many.status_code == 400 and b"At most 5 tags: you gave 6." in too_many.content
    assert artist.tags.count() == 2
    client.post(f"/artists/{artist.slug}/profile/", {"name": "Tagged", "tags": ""})
    assert artist.tags.count() == 0


@pytest.mark.django_db
def test_a_tag_page_lists_its_artists_a_page_at_a_time():
    tag = Tag.objects.create(slug="ambient", name="ambient")
    other = Tag.objects.create(slug="noise", name="noise")
    for i in range(ARTISTS_PER_PAGE + 2):
        make_artist(f"Ambient {i:03d}").tags.add(tag)
    make_artist("Loud").tags.add(other)
    first = Client().get("/tags/ambient/")
    assert first.status_code == 200
    names = [a.name for a in first.context["artists"].object_list]
    assert len(names) == ARTISTS_PER_PAGE and names[0] == "Ambient 000"
    assert b"Loud" not in first.content
    assert b'href="?page=2"' in first.content
    last = Client().get("/tags/ambient/?page=2")
    assert [a.name for a in last.context["artists"].object_list] == ["Ambient 048", "Ambient 049"]
    for bad in ("0", "x", "999", "-1"):
        assert Client().get(f"/tags/ambient/?page={bad}").status_code == 200
    assert Client().get("/tags/unknown/").status_code == 404
