"""Fan accounts: sign up, log in and out, password reset by email, and the listener an
account keeps on every device."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail

from mvsic.models import AccountListener, ListenerUser
from tests.conftest import make_artist, make_track, make_user

pytestmark = [pytest.mark.django_db]
COOKIE = settings.MVSIC_LISTENER_COOKIE


def listener_of(client) -> str:
    return client.cookies[COOKIE].value.split(":")[0]  # the id, then its signature


def signup(client, email="fan@example.com", password="a-Long-tune-42", again=None):
    return client.post(
        "/accounts/signup/",
        {"email": email, "password1": password, "password2": again or password},
    )


# --- sign up ---------------------------------------------------------------------------------
def test_signup_creates_an_account_logs_in_and_keeps_the_cookie_listener(client):
    client.get("/")
    before = listener_of(client)

    response = signup(client, email="Fan@Example.com")

    assert response.status_code == 302
    user = get_user_model().objects.get()
    assert user.username == user.email == "fan@example.com"
    assert user.check_password("a-Long-tune-42")
    client.get("/")
    assert AccountListener.objects.get(user=user).listener == before == listener_of(client)


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"password": "short"}, "password1", "too short"),
        ({"again": "something-else-42"}, "password2", "differ"),
    ],
)
def test_signup_refuses_bad_input_with_a_reason(client, fields, field, reason):
    response = signup(client, **fields)

    assert response.status_code == 400
    assert reason in " ".join(response.context["form"].errors[field])
    assert not get_user_model().objects.exists()


def test_signup_refuses_an_email_already_used(client):
    make_user("fan@example.com", email="fan@example.com")

    response = signup(client, email="FAN@example.com")

    assert response.status_code == 400
    assert "exists" in response.context["form"].errors["email"][0]


def test_the_signup_and_reset_pages_render(client):
    for path in ("/accounts/signup/", "/accounts/password_reset/", "/accounts/login/"):
        response = client.get(path)
        assert response.status_code == 200
    assert "Forgot your password" in client.get("/accounts/login/").content.decode()


# --- log in on another device, log out -------------------------------------------------------
def test_logging_in_on_another_device_sets_its_cookie_to_the_accounts_listener(client):
    signup(client)
    client.get("/")
    account = listener_of(client)
    other = client.__class__()
    other.get("/")
    assert listener_of(other) != account

    response = other.post(
        "/accounts/login/", {"username": "fan@example.com", "password": "a-Long-tune-42"}
    )
    assert response.status_code == 302
    other.get("/")

    assert listener_of(other) == account
    assert AccountListener.objects.count() == 1


def test_logging_out_hands_the_device_a_fresh_listener(client):
    signup(client)
    client.get("/")
    account = listener_of(client)

    client.post("/accounts/logout/")

    assert listener_of(client) != account
    client.get("/")
    assert listener_of(client) != account


def test_an_account_never_adopts_another_accounts_listener(client):
    first = make_user("one@example.com")
    second = make_user("two@example.com")
    client.force_login(first)
    client.get("/")
    shared = listener_of(client)
    client.force_login(second)  # a new session on the same device, without logging out
    client.get("/")

    assert AccountListener.objects.get(user=first).listener == shared
    assert AccountListener.objects.get(user=second).listener not in ("", shared)
    assert listener_of(client) == AccountListener.objects.get(user=second).listener


def test_a_members_account_listener_is_linked_for_the_own_play_rule(client):
    member = make_user()
    track = make_track(make_artist(members=[member]))
    client.force_login(member)

    client.get(f"/tracks/{track.id}/")

    assert ListenerUser.objects.get(user=member).listener == listener_of(client)
    assert AccountListener.objects.get(user=member).listener == listener_of(client)


# --- password reset --------------------------------------------------------------------------
def test_password_reset_by_email_sets_a_new_password(client):
    make_user("fan@example.com", email="fan@example.com", password="old-Password-1")

    response = client.post("/accounts/password_reset/", {"email": "fan@example.com"})

    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["fan@example.com"]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "new-Password-22", "new_password2": "new-Password-22"},
    )
    assert done.status_code == 302
    assert get_user_model().objects.get().check_password("new-Password-22")
    assert client.get(link, follow=True).context["validlink"] is False


def test_password_reset_of_an_unknown_email_sends_nothing_and_says_the_same(client):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert mail.outbox == []
