"""Enqueueing the push never gets in the way of a member's save, even with the broker down."""

import pytest
from kombu import pools

from preference_center.celery import app
from subscribers.models import PreferenceChange
from subscribers.outbox import send_push
from tests.sync_helpers import member_saves, newsletter, subscriber
from tests.workers import free_port

pytestmark = pytest.mark.django_db(databases=["default", "imis"])


@pytest.fixture
def broker_down():
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=f"redis://127.0.0.1:{free_port()}/0", task_always_eager=False)
    pools.reset()
    app._pool = app.amqp._producer_pool = None
    yield
    app.conf.update(saved)
    pools.reset()
    app._pool = app.amqp._producer_pool = None


def test_it_saves_the_change_even_when_the_broker_is_down(broker_down, imis_pg, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        change = member_saves(subscriber(1), newsletter(), True)

    assert len(callbacks) == 1  # the push was asked for, after the commit
    assert PreferenceChange.objects.get(id=change.id).state == "pending"  # the sweeper will send it


def test_it_reports_how_many_messages_went_out(broker_down):
    assert send_push(3) == 0
