"""Admin sign-in is throttled (django-axes): after ADMIN_LOGIN_FAILURE_LIMIT wrong passwords for one user
from one address, that user is locked out from that address, the right password included; another user,
or the same user from another address, still signs in."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def admins():
    User.objects.create_superuser("ann", "ann@example.org", "right-password-ann")
    User.objects.create_superuser("bob", "bob@example.org", "right-password-bob")


def sign_in(username, password, address="203.0.113.5", **headers):
    return Client(REMOTE_ADDR=address, **headers).post(LOGIN, {"username": username, "password": password})


def signed_in(response):
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_wrong_passwords_lock_the_user_out_from_that_address_even_with_the_right_one(admins):
    failures = [sign_in("ann", f"guess-{n}") for n in range(settings.AXES_FAILURE_LIMIT)]
    locked = sign_in("ann", "right-password-ann")

    assert [r.status_code for r in failures[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)  # the form again
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert not signed_in(locked)


def test_another_user_and_another_address_are_not_locked(admins):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in("ann", f"guess-{n}")

    assert signed_in(sign_in("bob", "right-password-bob"))
    assert signed_in(sign_in("ann", "right-password-ann", address="198.51.100.9"))


@override_settings(CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR")
def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(admins):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in("ann", f"guess-{n}", address="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")

    same_client = sign_in("ann", "right-password-ann", address="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    other_client = sign_in("ann", "right-password-ann", address="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9")

    assert same_client.status_code == 429
    assert signed_in(other_client)  # the proxy's own address is not what is locked
