"""Enqueueing the push never gets in the way of a member's save, even with the broker down."""

import json
import time

import pytest

from subscribers.models import PreferenceChange
from sync import outbox
from sync.outbox import push_soon, send_push
from tests.factories import make_interest, sandbox_subscriber
from tests.sync_helpers import member_saves
from tests.workers import free_port, publishing_to

pytestmark = pytest.mark.django_db(databases=["default", "imis"])


@pytest.fixture
def broker_down():
    with publishing_to(f"redis://127.0.0.1:{free_port()}/0"):
        yield


def test_it_saves_the_change_even_when_the_broker_is_down(broker_down, imis_pg, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        change = member_saves(sandbox_subscriber(1), make_interest(), True)

    assert [c for c in callbacks if c is push_soon] == [push_soon]  # the push was asked for, after the commit
    assert PreferenceChange.objects.get(id=change.id).state == "pending"  # the sweeper will send it


def test_it_reports_how_many_messages_went_out(broker_down):
    assert send_push(3) == 0


BROKER_DB = "redis://127.0.0.1:6379/13"


@pytest.fixture
def real_broker():
    """Messages go to a Redis database of this test's own, where it counts them (no worker drains it)."""
    import redis

    queue = redis.Redis.from_url(BROKER_DB)
    queue.flushdb()
    outbox._window["closes"] = 0.0
    with publishing_to(BROKER_DB):
        yield queue
    queue.flushdb()


def queued(queue):
    return [json.loads(raw) for raw in queue.lrange("celery", 0, -1)]


def test_it_sends_one_push_per_window_due_when_the_window_closes(real_broker, settings):
    settings.PUSH_COALESCE_SECONDS = 0.3
    for _ in range(5):  # five members save within the window
        push_soon()

    [message] = queued(real_broker)
    assert message["headers"]["task"] == "subscribers.tasks.push_changes"
    assert message["headers"]["eta"] is not None  # runs when the window closes, taking all five

    time.sleep(0.35)  # the window closed
    push_soon()
    assert len(queued(real_broker)) == 2


def test_a_push_that_could_not_be_sent_leaves_the_window_closed(broker_down, settings):
    settings.PUSH_COALESCE_SECONDS = 60
    outbox._window["closes"] = 0.0
    push_soon()  # broker down: nothing sent
    assert outbox._window["closes"] == 0.0  # the next save tries again


def test_it_sends_one_push_per_save_without_a_window(real_broker, settings):
    settings.PUSH_COALESCE_SECONDS = 0
    push_soon()
    push_soon()
    assert [m["headers"]["eta"] for m in queued(real_broker)] == [None, None]


@pytest.mark.parametrize(
    ("visibility", "max_delay", "warned"), [(7200, 600, False), (600, 600, True), (300, 600, True)]
)
def test_a_system_check_warns_when_redis_would_redeliver_a_retry_before_it_is_due(
    settings, visibility, max_delay, warned
):
    from django.core import checks

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": visibility}
    settings.PUSH_RETRY_MAX_DELAY = max_delay

    ids = [m.id for m in checks.run_checks(include_deployment_checks=True)]

    assert ("subscribers.W001" in ids) is warned


def test_the_check_is_quiet_in_the_embedded_default(settings):
    from django.core import checks

    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 1}
    assert "subscribers.W001" not in [m.id for m in checks.run_checks()]
