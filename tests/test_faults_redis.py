"""A sick Redis under a running deployment: gunicorn, a Celery worker and beat as real processes on a
private redis-server (broker and cache) that the tests freeze (SIGSTOP), kill and start again, with our
PostgreSQL and the PostgreSQL iMIS replica. Members save over HTTP as their browsers would.

What must hold whatever Redis does: a committed save answers success at once, Redis is not asked again
and again while it is sick, every change reaches iMIS once within two minutes of Redis coming back (the
default beat schedule), and a page loaded before an outage never reverts what its member saved meanwhile."""

import pytest

from preference_center.imis.sandbox import build_sandbox
from subscribers.models import PreferenceChange
from subscribers.tokens import make_token
from tests.factories import make_interest, sandbox_subscriber
from tests.faults_helpers import Deployment, MemberBrowser
from tests.imis_helpers import activities, ud_value
from tests.workers import Worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(databases=["default", "imis"], transaction=True)]

RECOVERY = 120  # seconds: the target, with default settings, from Redis back to every change in iMIS
MEMBERS = [i for i in range(40) if i % 17 != 16][:12]  # members the sandbox gave a ud_EmailPrefs row
SAVED = 302  # a save answers with a redirect to the saved page


@pytest.fixture
def interests(db):
    build_sandbox("imis", members=40)
    return make_interest(), make_interest(field_name="EVENTS", prompt="Events and conferences")


@pytest.fixture
def deployment(redis_server, interests):
    with Deployment.running(redis_server) as running:
        yield running


def box(interest):
    return f"interest_{interest.id}"


def browsers(deployment):
    return [(m, MemberBrowser(deployment.web.url, make_token(m))) for m in map(sandbox_subscriber, MEMBERS)]


def in_imis(members, field="NEWSLETTER"):
    return lambda: all(ud_value(m.imis_id, field) is True for m in members)


def assert_every_change_in_imis_once():
    changes = PreferenceChange.objects.all()
    assert sorted(r[5] for r in activities()) == sorted(str(c.uuid) for c in changes), "a change lost or twice"


def test_a_save_answers_at_once_while_redis_hangs_and_reaches_imis_after(deployment, interests):
    news, _ = interests
    members = browsers(deployment)
    pages = [browser.load() for _, browser in members]

    deployment.redis.freeze()
    answers = [browser.save(page, **{box(news): True}) for (_, browser), page in zip(members, pages, strict=True)]

    assert [status for status, _ in answers] == [SAVED] * len(members)
    # Redis is asked once, by the first save's rate-limit count, which waits REDIS_TIMEOUT at most; the
    # breaker spares every later count and every push message (the sweeper sends those).
    output = deployment.web.output()
    assert output.count("rate limit not counted (TimeoutError)") == 1
    assert output.count("push not enqueued") == 0
    assert PreferenceChange.objects.filter(state="pending").count() == len(members)

    deployment.redis.thaw()
    wait_until(in_imis([m for m, _ in members]), RECOVERY, "the saves to reach iMIS after Redis woke up")
    assert_every_change_in_imis_once()


def test_saves_skip_a_refusing_redis_and_reach_imis_once_it_is_back(deployment, interests):
    news, _ = interests
    members = browsers(deployment)
    pages = [browser.load() for _, browser in members]

    deployment.redis.stop()
    answers = [browser.save(page, **{box(news): True}) for (_, browser), page in zip(members, pages, strict=True)]

    assert [status for status, _ in answers] == [SAVED] * len(members)
    # Without the breaker every save would pay the publish (its retries) and the rate limit again.
    output = deployment.web.output()
    assert output.count("rate limit not counted (ConnectionError)") == 1
    assert output.count("push not enqueued") == 0

    deployment.redis.start()  # empty: every message is lost
    wait_until(in_imis([m for m, _ in members]), RECOVERY, "the saves to reach iMIS after Redis came back")
    assert_every_change_in_imis_once()


def test_a_worker_back_on_redis_asks_for_a_sweep_without_waiting_for_beat(redis_server, interests):
    news, _ = interests
    worker = Worker("reconnecting", redis_server.url)
    worker.start()
    try:
        redis_server.stop()
        # Saved while Redis was down: pending rows, their push messages lost (no beat runs here).
        for member in map(sandbox_subscriber, MEMBERS):
            PreferenceChange.objects.create(subscriber=member, interest=news, new_value=True, source="form")
        redis_server.start()  # empty
        wait_until(in_imis(list(map(sandbox_subscriber, MEMBERS))), 60, "the worker's sweep on reconnecting")
    finally:
        worker.stop()
    assert_every_change_in_imis_once()


def test_a_page_loaded_before_an_outage_never_reverts_what_its_member_saved(deployment, interests):
    news, events = interests
    members = browsers(deployment)
    pages = [browser.load() for _, browser in members]  # nothing ticked

    deployment.redis.stop()  # the web cut off from Redis (its cache and broker)
    assert {browser.save(page, **{box(news): True})[0] for (_, browser), page in zip(members, pages, strict=True)} == {
        SAVED
    }
    deployment.redis.start()
    # The same members save again from the pages they had: they tick another box only.
    assert {
        browser.save(page, **{box(events): True})[0] for (_, browser), page in zip(members, pages, strict=True)
    } == {SAVED}

    assert not PreferenceChange.objects.filter(new_value=False).exists(), "a saved choice was reverted"
    everyone = [m for m, _ in members]
    wait_until(lambda: in_imis(everyone)() and in_imis(everyone, "EVENTS")(), RECOVERY, "both choices in iMIS")
    assert_every_change_in_imis_once()
