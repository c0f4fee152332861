"""Personal links: signed, rotatable, optionally expiring, and free of personal data."""

import base64
import json

import pytest
from django.test import override_settings

from preference_center.lib import redaction
from subscribers import tokens
from subscribers.services.preferences import subscribers_rotate_tokens
from tests.factories import make_subscriber
from tests.members_helpers import member_of

pytestmark = pytest.mark.django_db


def test_it_reads_back_the_subscriber_id_and_version():
    subscriber = make_subscriber()
    payload = tokens.read_token(tokens.make_token(subscriber))
    assert payload == tokens.LinkPayload(subscriber.pk, subscriber.token_version)


def test_it_carries_no_personal_data():
    subscriber = make_subscriber(email="grace.hopper@example.org", first_name="Grace", imis_id="123456")
    token = tokens.make_token(subscriber)
    encoded = token.split(":")[0]
    decoded = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    assert decoded == [subscriber.pk, subscriber.token_version]
    for secret in ("grace", "hopper", "123456", "example"):
        assert secret not in token.lower()


def test_it_refuses_a_tampered_token_without_a_query(django_assert_num_queries):
    subscriber = make_subscriber()
    token = tokens.make_token(subscriber)
    forged = tokens.make_token(make_subscriber()).split(":")[0] + token[token.index(":") :]
    with django_assert_num_queries(0):
        assert tokens.read_token(forged) is None
        assert tokens.read_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB")) is None
        assert tokens.read_token("garbage") is None
        assert tokens.read_token("") is None
        assert member_of("x" * 500) is None


def test_it_refuses_a_token_signed_with_another_key():
    subscriber = make_subscriber()
    with override_settings(SECRET_KEY="another-secret-key-of-another-installation"):
        foreign = tokens.make_token(subscriber)
    assert tokens.read_token(foreign) is None


def test_it_refuses_a_rotated_link():
    subscriber = make_subscriber()
    old = tokens.make_token(subscriber)
    assert member_of(old) == subscriber
    assert subscribers_rotate_tokens(subscriber_ids=[subscriber.pk]) == 1
    subscriber.refresh_from_db()
    assert member_of(old) is None
    assert member_of(tokens.make_token(subscriber)) == subscriber


def test_it_refuses_the_link_of_a_member_gone_from_imis():
    subscriber = make_subscriber(active=False)
    assert member_of(tokens.make_token(subscriber)) is None


def test_it_expires_links_when_a_maximum_age_is_set(monkeypatch):
    subscriber = make_subscriber()
    token = tokens.make_token(subscriber)
    with override_settings(PREFERENCE_LINK_MAX_AGE_DAYS=30):
        assert tokens.read_token(token) is not None
        monkeypatch.setattr("time.time", lambda: __import__("datetime").datetime.now().timestamp() + 31 * 86400)
        assert tokens.read_token(token) is None
    assert tokens.read_token(token) is not None  # no maximum age: links last until rotated


def test_it_builds_absolute_urls_from_site_url():
    subscriber = make_subscriber()
    url = tokens.preference_url(subscriber)
    assert url.startswith("https://prefs.example.org/p/") and url.endswith("/")
    one_click = tokens.one_click_url(subscriber)
    assert one_click.startswith("https://prefs.example.org/p/") and one_click.endswith("/one-click")
    token = url.removeprefix("https://prefs.example.org/p/").rstrip("/")
    assert member_of(token) == subscriber


def test_it_redacts_tokens_from_log_messages():
    assert redaction.redact("Not Found: /p/WzEsMV0:1abc:xyz/one-click") == "Not Found: /p/[token]/one-click"


def test_it_redacts_email_addresses_from_log_messages():
    # A client that puts an address in a path (e.g. /api/v1/members/<email>/) must not get it logged.
    assert (
        redaction.redact("Not Found: /api/v1/members/Jane.Doe+x@Example.org/") == "Not Found: /api/v1/members/[email]/"
    )
    assert redaction.redact("GET /api/v1/members/jane%40example.org/ 404") == "GET /api/v1/members/[email]/ 404"
    assert redaction.redact("celery@worker1 ready") == "celery@worker1 ready"
