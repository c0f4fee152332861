"""The sweeper (beat, every minute), run eagerly: lost push messages and dead workers' claims."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from subscribers.models import PreferenceChange
from sync import tasks
from sync.services import push
from tests.factories import make_interest, sandbox_subscriber
from tests.imis_helpers import activities

pytestmark = pytest.mark.django_db(databases=["default", "imis"])


@pytest.fixture
def interest(imis_pg):
    return make_interest()


def saved_without_message(i, interest, **kwargs):
    """A change whose push message never reached Redis."""
    return PreferenceChange.objects.create(
        subscriber=sandbox_subscriber(i), interest=interest, new_value=True, source="form", **kwargs
    )


def test_it_sends_the_push_again_for_changes_whose_message_was_lost(interest):
    change = saved_without_message(1, interest)

    assert tasks.sweep_changes.apply().get() == {"released": 0, "due": 1, "sent": 1}

    change.refresh_from_db()
    assert change.state == "done"
    assert [r[5] for r in activities()] == [str(change.uuid)]


def test_it_puts_back_and_pushes_the_changes_of_a_dead_worker(interest):
    change = saved_without_message(2, interest)
    with override_settings(PUSH_CLAIM_TIMEOUT=0):
        push.changes_claim()  # ... and the worker that claimed it died: its claim lapsed
        assert tasks.sweep_changes.apply().get() == {"released": 1, "due": 1, "sent": 1}

    change.refresh_from_db()
    assert change.state == "done" and change.attempts == 2


def test_it_leaves_a_live_workers_claim_alone(interest):
    change = saved_without_message(3, interest)
    push.changes_claim()

    assert tasks.sweep_changes.apply().get() == {"released": 0, "due": 0, "sent": 0}
    change.refresh_from_db()
    assert change.state == "sending"


def test_it_waits_for_the_backoff_of_changes_imis_could_not_take(interest):
    later = timezone.now() + datetime.timedelta(minutes=5)
    saved_without_message(4, interest, attempts=3, next_attempt_at=later, last_error="iMIS unavailable: timeout")

    assert tasks.sweep_changes.apply().get() == {"released": 0, "due": 0, "sent": 0}


@override_settings(PUSH_BATCH_SIZE=2, PUSH_SWEEP_MESSAGES=2)
def test_it_sends_a_few_messages_for_a_backlog_so_that_workers_share_it(interest):
    for i in range(7):
        saved_without_message(i, interest)

    assert tasks.sweep_changes.apply().get()["sent"] == 2
    assert PreferenceChange.objects.filter(state="done").count() == 7
