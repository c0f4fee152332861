"""The push with real Celery workers (subprocesses) on a private redis-server, to iMIS through either gateway:
the PostgreSQL iMIS replica (SQL) or the REST sandbox over it (REST, the workers sharing their token through
Redis). A save reaches iMIS, and nothing is lost or written twice while iMIS, Redis or a worker fails."""

import contextlib
import datetime
import importlib

import pytest
from django.conf import settings
from django.db import connections
from django.db.models import F
from django.utils import timezone

from preference_center.imis.rest.sandbox_server import RestSandbox
from preference_center.imis.sandbox import build_sandbox
from subscribers.models import PreferenceChange
from sync import tasks
from tests.factories import make_interest, sandbox_subscriber
from tests.imis_helpers import activities, counter, ud_value
from tests.sync_helpers import member_saves
from tests.workers import TcpProxy, Worker, publishing_to, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(databases=["default", "imis"], transaction=True)]

TIMEOUT = 90  # seconds, for any one wait on the workers
# Members the sandbox gave a ud_EmailPrefs row (every 17th has none).
WITH_ROW = [i for i in range(700) if i % 17 != 16]


@pytest.fixture
def broker(redis_server):
    """This process publishes to the private Redis, as the web process and beat would."""
    with publishing_to(redis_server.url):
        yield redis_server


@pytest.fixture(params=["sql", "rest"])
def imis_gateway(request, db):
    """Which gateway the workers use; for REST, the sandbox (in this process) serving the replica."""
    build_sandbox("imis", members=700)
    if request.param == "sql":
        yield None
        return
    sandbox = RestSandbox("imis").start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def imis_proxy(imis_gateway):
    """What the workers connect to for iMIS (the replica's PostgreSQL, or the REST sandbox): a test cuts it."""
    if imis_gateway is None:
        imis = connections["imis"].settings_dict
        proxy = TcpProxy(imis["HOST"] or "127.0.0.1", imis["PORT"] or 5432)
    else:
        proxy = TcpProxy("127.0.0.1", imis_gateway.url.rsplit(":", 1)[1].strip("/"))
    proxy.open()
    yield proxy
    proxy.close()


@pytest.fixture
def interest(imis_gateway):
    return make_interest(prompt="Monthly newsletter")


@pytest.fixture
def workers(broker, imis_gateway, imis_proxy, interest):
    """Start workers with `start(name, **env)`; all stopped (before the databases are flushed) at the end."""
    started = []
    if imis_gateway is None:
        imis_env = {"PC_TEST_IMIS_PORT": imis_proxy.port}
    else:
        imis_env = {
            "IMIS_API_URL": f"http://127.0.0.1:{imis_proxy.port}/",
            "IMIS_API_USER": imis_gateway.username,
            "IMIS_API_PASSWORD": imis_gateway.password,
            "REDIS_URL": broker.url,  # the cache: one token for every worker
        }

    def start(name, **env):
        worker = Worker(name, broker.url, {**imis_env, **env})
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    connections.close_all()


def all_done(n):
    return lambda: PreferenceChange.objects.filter(state="done").count() == n


def assert_every_change_in_imis_once(changes):
    rows = activities()
    assert len(rows) == len(changes)
    assert sorted(r[5] for r in rows) == sorted(str(c.uuid) for c in changes), "a change is missing or twice"
    seqn_of = {r[5]: r[0] for r in rows}
    for change in PreferenceChange.objects.filter(id__in=[c.id for c in changes]):
        assert change.state == "done" and change.activity_seqn == seqn_of[str(change.uuid)]
    for change in changes:
        assert ud_value(change.subscriber.imis_id) is change.new_value


def test_it_carries_a_members_save_into_imis(workers, interest):
    workers("w1")
    member = sandbox_subscriber(3)

    change = member_saves(member, interest, not ud_value(member.imis_id))

    wait_until(all_done(1), TIMEOUT, "the change to be pushed")
    change.refresh_from_db()
    [(seqn, imis_id, activity_type, product_code, description, source_code, _when)] = activities()
    assert (seqn, imis_id, activity_type, product_code, source_code) == (
        change.activity_seqn,
        member.imis_id,
        "iOptout",
        "NEWSLETTER",
        str(change.uuid),
    )
    assert description == f"Opted {'in' if change.new_value else 'out'}: Monthly newsletter"
    assert ud_value(member.imis_id) is change.new_value
    assert counter() == seqn


def test_it_delivers_every_save_made_while_imis_was_down_once_it_returns(workers, interest, imis_proxy):
    workers("w1", PUSH_RETRY_BASE_DELAY=0.5, PUSH_RETRY_MAX_DELAY=2)
    imis_proxy.close()

    changes = [member_saves(sandbox_subscriber(i), interest, i % 3 != 0) for i in WITH_ROW[:500]]

    wait_until(
        lambda: PreferenceChange.objects.filter(
            state="pending", attempts__gte=1, last_error__startswith="iMIS unavailable"
        ).exists(),
        TIMEOUT,
        "the worker to find iMIS down",
    )
    assert PreferenceChange.objects.filter(state="done").count() == 0
    imis_proxy.open()
    wait_until(all_done(500), TIMEOUT, "all 500 changes to arrive")
    assert_every_change_in_imis_once(changes)


def test_it_delivers_saves_made_while_redis_was_down_through_the_sweeper(workers, interest, broker):
    workers("w1")
    broker.stop()

    changes = [member_saves(sandbox_subscriber(i), interest, True) for i in WITH_ROW[:10]]  # the saves succeed

    assert PreferenceChange.objects.filter(state="pending").count() == 10
    broker.start()
    wait_until(lambda: _sent(tasks.sweep_changes), TIMEOUT, "beat's sweep message to go out")
    wait_until(all_done(10), TIMEOUT, "the swept changes to arrive")
    assert_every_change_in_imis_once(changes)


def _sent(task):
    with contextlib.suppress(Exception):
        task.delay()
        return True
    return False


FAULT = """
CREATE SEQUENCE pc_fault;
CREATE FUNCTION pc_slow_first_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF nextval('pc_fault') = 1 THEN PERFORM pg_sleep(60); END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER pc_slow_first_mark BEFORE UPDATE ON subscribers_preferencechange
    FOR EACH ROW WHEN (NEW.state = 'done') EXECUTE FUNCTION pc_slow_first_mark();
"""


@pytest.fixture
def slow_first_mark():
    """Our database stalls the first time a worker records changes as done: the moment after iMIS
    committed a batch and before we know it, where a crash hurts most."""
    with connections["default"].cursor() as cursor:
        cursor.execute(FAULT)
    yield
    with connections["default"].cursor() as cursor:
        cursor.execute("DROP TRIGGER pc_slow_first_mark ON subscribers_preferencechange")
        cursor.execute("DROP FUNCTION pc_slow_first_mark(); DROP SEQUENCE pc_fault")


def _sweep_interval():
    """Seconds between beat's sweeps as shipped: the migration that creates beat's schedules."""
    migration = importlib.import_module("preference_center.migrations.0001_beat_schedules")
    [(every, period)] = [(e, p) for _name, task, e, p, _doc in migration.SCHEDULES if task == tasks.sweep_changes.name]
    return datetime.timedelta(**{period: every}).total_seconds()


def test_the_shipped_settings_bring_a_killed_workers_changes_back_within_two_minutes():
    # The worst case: the claim lapses PUSH_CLAIM_TIMEOUT after the heartbeat the worker last sent before it
    # died, and the sweep that releases it comes up to one interval later (the scenario below runs that sweep).
    assert settings.PUSH_CLAIM_TIMEOUT + _sweep_interval() < 120


def test_a_killed_workers_changes_arrive_once_each_when_its_claims_lapse_and_the_sweep_runs(
    workers, interest, slow_first_mark
):
    changes = [member_saves(sandbox_subscriber(i), interest, i % 2 == 0) for i in WITH_ROW[:200]]
    first = workers("doomed", PUSH_BATCH_SIZE=20)

    wait_until(lambda: len(activities()) == 20, TIMEOUT, "iMIS to commit the first batch")
    held = set(PreferenceChange.objects.filter(state="sending").values_list("id", flat=True))
    assert len(held) == 20  # committed in iMIS, not known here
    first.kill()

    workers("survivor", PUSH_BATCH_SIZE=20)
    wait_until(all_done(180), TIMEOUT, "the survivor to push the changes nobody held")
    assert set(PreferenceChange.objects.filter(state="sending").values_list("id", flat=True)) == held  # not lapsed
    # What PUSH_CLAIM_TIMEOUT without a heartbeat does to the killed worker's claims (the survivor's own are
    # renewed by its heartbeat): their claim time and lapse time fall that far behind.
    lapsed = datetime.timedelta(seconds=settings.PUSH_CLAIM_TIMEOUT + 1)
    PreferenceChange.objects.filter(id__in=held).update(
        claimed_at=F("claimed_at") - lapsed, next_attempt_at=F("next_attempt_at") - lapsed
    )
    killed_claims = PreferenceChange.objects.filter(
        id__in=held, state="sending", claimed_at__lt=timezone.now() - lapsed
    )
    tasks.sweep_changes.apply()
    # Released, by this sweep or by the one the survivor asked for when it connected (its queue may reach it
    # only now, on a busy machine): the killed worker holds none of them any more.
    assert not killed_claims.exists()
    wait_until(all_done(200), TIMEOUT, "the swept changes to arrive")
    assert_every_change_in_imis_once(changes)


def test_two_workers_never_push_a_change_twice(workers, interest):
    workers("w1", PUSH_BATCH_SIZE=10)
    workers("w2", PUSH_BATCH_SIZE=10)

    changes = [member_saves(sandbox_subscriber(i), interest, i % 2 == 1) for i in WITH_ROW[:300]]
    wait_until(all_done(300), TIMEOUT, "all 300 changes to arrive")

    assert_every_change_in_imis_once(changes)
    assert set(PreferenceChange.objects.values_list("attempts", flat=True)) == {1}  # each claimed exactly once
