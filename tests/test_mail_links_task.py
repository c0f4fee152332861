"""The worker side of "lost link / not you": one message with a fresh link per member at the address."""

import pytest
from django.core import mail

from subscribers.tasks import mail_links
from subscribers.tokens import preference_url
from tests.factories import make_subscriber

pytestmark = pytest.mark.django_db


def test_it_mails_one_message_with_the_links_of_members_sharing_an_address():
    ann = make_subscriber(email="family@example.org", first_name="Ann")
    bob = make_subscriber(email="family@example.org", first_name="Bob")

    assert mail_links.apply(args=[[ann.pk, bob.pk]]).get() == 2

    [message] = mail.outbox
    assert message.to == ["family@example.org"]
    assert preference_url(ann) in message.body and preference_url(bob) in message.body


def test_it_sends_nothing_for_an_unknown_address_or_a_member_no_longer_mailable():
    gone = make_subscriber(email="gone@example.org", active=False)

    assert mail_links.apply(args=[[]]).get() == 0
    assert mail_links.apply(args=[[gone.pk]]).get() == 0
    assert mail.outbox == []
