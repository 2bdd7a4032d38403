"""Signing in and out, the lockout page, password changes and API tokens."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import ApiToken
from opsdesk.accounts.services import token_authenticate, token_create
from opsdesk.core.choices import SecurityEventKind
from opsdesk.core.models import SecurityEvent
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_lands_an_agent_on_the_agent_home(client, make_user):
    make_user(username="anna", role=Role.AGENT)
    response = client.post(reverse("login"), {"username": "anna", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert response.templates[0].name == "web/home_agent.html"


def test_failed_sign_in_shows_a_clear_error_and_is_logged(client, make_user):
    make_user(username="anna")
    response = client.post(reverse("login"), {"username": "anna", "password": "wrong"})
    assert response.status_code == 200
    assert b"do not match" in response.content
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.LOGIN_FAILED, username="anna").exists()


def test_repeated_failures_show_the_lockout_page(client, make_user, settings):
    make_user(username="anna")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "anna", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "anna", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content


def test_logout_only_accepts_post(client, make_user):
    client.force_login(make_user())
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_password_change_keeps_the_session_and_is_logged(client, make_user):
    user = make_user()
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "violet harbour 27",
            "new_password2": "violet harbour 27",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("violet harbour 27")
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.PASSWORD_CHANGED, user=user).exists()
    assert client.get(reverse("portal")).status_code == 200


@pytest.mark.parametrize(
    ("old", "new1", "new2", "message"),
    [
        ("wrong", "violet harbour 27", "violet harbour 27", b"not your current password"),
        (PASSWORD, "violet harbour 27", "violet harbour 28", b"two new passwords differ"),
        (PASSWORD, "12345678901", "12345678901", b"entirely numeric"),
    ],
)
def test_password_change_refuses_bad_input(client, make_user, old, new1, new2, message):
    user = make_user()
    client.force_login(user)
    response = client.post(
        reverse("password_change"), {"old_password": old, "new_password1": new1, "new_password2": new2}
    )
    assert response.status_code == 400
    assert message in response.content
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_new_token_is_shown_once_and_works(client, make_user):
    user = make_user(role=Role.AGENT)
    client.force_login(user)
    response = client.post(reverse("tokens"), {"name": "monitoring", "lifetime": "30"})
    secret = response.context["new_secret"]
    assert secret and secret.encode() in response.content
    assert response["Cache-Control"].startswith("max-age=0")
    assert token_authenticate(secret) == user
    again = client.get(reverse("tokens"))
    assert secret.encode() not in again.content
    assert b"monitoring" in again.content


def test_revoking_a_token_stops_it(client, make_user):
    user = make_user()
    token, secret = token_create(actor=user, user=user, name="script")
    client.force_login(user)
    response = client.post(reverse("token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert token_authenticate(secret) is None


def test_nobody_revokes_someone_elses_token(client, make_user):
    owner, other = make_user(), make_user()
    token, secret = token_create(actor=owner, user=owner)
    client.force_login(other)
    assert client.post(reverse("token_revoke", args=[token.pk])).status_code == 404
    assert token_authenticate(secret) == owner
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_token_page_lists_only_ones_own_tokens(client, make_user):
    owner, other = make_user(), make_user()
    token_create(actor=other, user=other, name="not yours")
    client.force_login(owner)
    assert b"not yours" not in client.get(reverse("tokens")).content
