"""The lost-link mail limit counts the member an address matched, not the text typed: Unicode case
variants that the database matches (a dotless "ı" upper-cases to "I") share one budget."""

import pytest
from django.core import mail
from django.test import override_settings

from tests.factories import make_subscriber

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@override_settings(LOST_LINK_EMAIL_RATE_LIMIT="3/h", LOST_LINK_RATE_LIMIT="100/h")
def test_case_variants_of_one_address_share_the_members_mail_budget(client):
    make_subscriber(email="jimmy@example.org")
    typed = ["jimmy@example.org", "JIMMY@example.org", "jımmy@example.org", "JIMMY@EXAMPLE.ORG", "jımmy@EXAMPLE.org"]

    statuses = [client.post("/lost-link/", {"email": address}).status_code for address in typed]

    assert statuses == [302] * 5  # the page says nothing either way
    assert len(mail.outbox) == 3
    assert {message.to[0] for message in mail.outbox} == {"jimmy@example.org"}


@override_settings(LOST_LINK_EMAIL_RATE_LIMIT="1/h", LOST_LINK_RATE_LIMIT="100/h")
def test_another_member_keeps_a_budget_of_their_own(client):
    make_subscriber(email="jimmy@example.org")
    make_subscriber(email="ann@example.org")

    for address in ("jimmy@example.org", "jımmy@example.org", "ann@example.org"):
        client.post("/lost-link/", {"email": address})

    assert sorted(message.to[0] for message in mail.outbox) == ["ann@example.org", "jimmy@example.org"]


@override_settings(LOST_LINK_EMAIL_RATE_LIMIT="100/h", LOST_LINK_RATE_LIMIT="100/h")
def test_the_database_does_match_the_dotless_variant(client):
    make_subscriber(email="jimmy@example.org")

    client.post("/lost-link/", {"email": "jımmy@example.org"})

    assert [message.to[0] for message in mail.outbox] == ["jimmy@example.org"]
