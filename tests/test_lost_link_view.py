"""The "lost link / not you" page: mails a fresh link to a member's own address, says nothing else."""

import re

import pytest
from django.core import mail
from django.test import override_settings

from tests.factories import make_subscriber
from tests.members_helpers import member_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def test_it_mails_a_working_link_to_a_members_own_address(client):
    member = make_subscriber(email="Jane.Doe@example.org")
    response = client.post("/lost-link/", {"email": "jane.doe@EXAMPLE.org"})
    assert response.status_code == 302 and response["Location"] == "/lost-link/sent/"
    (message,) = mail.outbox
    assert message.to == ["Jane.Doe@example.org"]
    link = next(word for word in message.body.split() if word.startswith("https://prefs.example.org/p/"))
    token = link.removeprefix("https://prefs.example.org/p/").rstrip("/")
    assert member_of(token) == member
    assert client.get(f"/p/{token}/").status_code == 200


CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def test_it_answers_the_same_for_an_unknown_address(client):
    make_subscriber(email="jane@example.org")
    known = client.post("/lost-link/", {"email": "jane@example.org"}, follow=True)
    unknown = client.post("/lost-link/", {"email": "nobody@example.org"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    # Equal but for the CSRF token of the language switcher, which is random in every response.
    assert CSRF_VALUE.sub("", known.content.decode()) == CSRF_VALUE.sub("", unknown.content.decode())
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("kwargs", [{"exclude_mail": True}, {"active": False}])
def test_it_sends_nothing_to_members_who_are_not_mailable(client, kwargs):
    make_subscriber(email="jane@example.org", **kwargs)
    assert client.post("/lost-link/", {"email": "jane@example.org"}).status_code == 302
    assert mail.outbox == []


def test_it_rejects_a_malformed_address(client):
    response = client.post("/lost-link/", {"email": "not an address"})
    assert response.status_code == 400
    assert mail.outbox == []


def test_it_shows_the_form(client):
    response = client.get("/lost-link/")
    assert response.status_code == 200 and 'name="email"' in response.content.decode()


@override_settings(LOST_LINK_RATE_LIMIT="2/h")
def test_it_limits_requests_per_ip(client):
    for _ in range(2):
        assert client.post("/lost-link/", {"email": "someone@example.org"}).status_code == 302
    response = client.post("/lost-link/", {"email": "someone@example.org"})
    assert response.status_code == 429 and "Too many requests" in response.content.decode()


@override_settings(LOST_LINK_EMAIL_RATE_LIMIT="2/h")
def test_it_limits_mail_per_address_without_saying_so(client):
    make_subscriber(email="jane@example.org")
    for n in range(4):
        response = client.post("/lost-link/", {"email": "jane@example.org"}, REMOTE_ADDR=f"192.0.2.{n}")
        assert response.status_code == 302
    assert len(mail.outbox) == 2
