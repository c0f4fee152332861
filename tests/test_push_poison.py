"""A change iMIS refuses fails on its own, and the rest of its batch reaches iMIS; an error worth waiting
for (a lock timeout) keeps the batch whole. On the PostgreSQL and SQLite replicas, whose triggers and
locks refuse for real."""

import datetime
import math
import sqlite3

import psycopg
import pytest
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from preference_center.imis.sandbox import build_sandbox, member_id
from subscribers.models import PreferenceChange
from sync.selectors import sync_overview_get
from sync.services import push
from tests.conftest import q
from tests.factories import make_interest, sandbox_subscriber
from tests.imis_helpers import activities, ud_value
from tests.sync_helpers import member_saves

WITH_ROW = [i for i in range(540) if i % 17 != 16][:500]  # the sandbox gives every 17th member no UD row
POISON = WITH_ROW[321]
RULE = f"iMIS rule: member {member_id(POISON)} may not change preferences"


def poison(alias):
    """A trigger on the UD table that refuses any update of one member's row, as an iMIS customisation
    could."""
    table, ident = q(alias, "ud_EmailPrefs"), q(alias, "ID")
    with connections[alias].cursor() as cursor:
        if connections[alias].vendor == "postgresql":
            cursor.execute(
                f"CREATE FUNCTION pc_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"RAISE EXCEPTION 'iMIS rule: member % may not change preferences', NEW.{ident}; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER pc_poison BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN (NEW.{ident} = '{member_id(POISON)}') EXECUTE FUNCTION pc_poison()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER pc_poison BEFORE UPDATE ON {table} WHEN NEW.{ident} = '{member_id(POISON)}' "
                f"BEGIN SELECT RAISE(ABORT, '{RULE}'); END"
            )


def cure(alias):
    with connections[alias].cursor() as cursor:
        cursor.execute(f"DROP TRIGGER pc_poison ON {q(alias, 'ud_EmailPrefs')}")
        cursor.execute("DROP FUNCTION pc_poison()")


def when_due():
    PreferenceChange.objects.filter(state="pending").update(next_attempt_at=timezone.now())


@pytest.mark.django_db(databases=["default", "imis", "imis_sqlite"])
@pytest.mark.parametrize("alias", ["imis", "imis_sqlite"])
def test_one_change_imis_refuses_fails_alone_and_the_other_499_arrive(alias):
    build_sandbox(alias, members=540)
    interest = make_interest()
    changes = {
        i: member_saves(sandbox_subscriber(i), interest, not ud_value(member_id(i), alias=alias)) for i in WITH_ROW
    }
    before = ud_value(member_id(POISON), alias=alias)
    poison(alias)

    result = push.changes_push(using=alias)

    # One batch of 500, halved down to the poison: 1 + 2 x ceil(log2 500) iMIS transactions.
    assert (result.claimed, result.done, result.refused, result.failed) == (500, 499, 1, 0)
    assert result.writes == 1 + 2 * math.ceil(math.log2(500)) == 19
    assert sorted(r[5] for r in activities(alias=alias)) == sorted(
        str(c.uuid) for i, c in changes.items() if i != POISON
    )
    assert all(bool(ud_value(member_id(i), alias=alias)) is changes[i].new_value for i in WITH_ROW if i != POISON)
    bad = PreferenceChange.objects.get(id=changes[POISON].id)
    assert (bad.state, bad.last_error) == ("pending", f"iMIS refused it (attempt 1 of 3): {RULE}")
    assert bad.next_attempt_at > timezone.now()  # after a backoff

    for _attempt in (2, 3):  # tried alone again, PUSH_MAX_ATTEMPTS in all
        when_due()
        assert push.changes_push(using=alias).writes == 1

    bad.refresh_from_db()
    assert (bad.state, bad.attempts, bad.last_error) == ("failed", 3, f"iMIS refused it: {RULE}")
    assert ud_value(member_id(POISON), alias=alias) == before
    assert PreferenceChange.objects.filter(state="done").count() == 499
    assert (f"iMIS refused it: {RULE}", 1) in sync_overview_get(check_imis=False).failing_reasons  # dashboard


@pytest.mark.django_db(databases=["default", "imis"])
def test_staff_retry_a_refused_change_once_imis_takes_it(django_capture_on_commit_callbacks):
    build_sandbox("imis", members=400)
    change = member_saves(sandbox_subscriber(POISON), make_interest(), True)
    poison("imis")
    with override_settings(PUSH_MAX_ATTEMPTS=1):
        push.changes_push()
    change.refresh_from_db()
    assert change.state == "failed"

    cure("imis")
    with django_capture_on_commit_callbacks(execute=True):
        assert push.changes_retry(change_ids=[change.id]) == 1  # the admin's "Retry" action

    change.refresh_from_db()
    assert change.state == "done" and [r[5] for r in activities()] == [str(change.uuid)]


class CounterLocked:
    """Another session holds iMIS's Counter row (PostgreSQL) or the whole database (SQLite) until closed."""

    def __init__(self, alias):
        settings = connections[alias].settings_dict
        if connections[alias].vendor == "postgresql":
            self.connection = psycopg.connect(
                host=settings["HOST"] or "127.0.0.1",
                port=settings["PORT"] or 5432,
                user=settings["USER"],
                dbname=settings["NAME"],
            )
            self.connection.execute(
                f"SELECT 1 FROM {q(alias, 'Counter')} WHERE {q(alias, 'COUNTER_NAME')} = 'Activity' FOR UPDATE"
            )
            lock_wait = "SET lock_timeout = '200ms'"
        else:
            self.connection = sqlite3.connect(settings["NAME"], isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")
            lock_wait = "PRAGMA busy_timeout = 200"
        with connections[alias].cursor() as cursor:
            cursor.execute(lock_wait)  # our session waits this long for a lock, not the default

    def release(self):
        self.connection.rollback()
        self.connection.close()


@pytest.mark.django_db(databases=["default", "imis", "imis_sqlite"], transaction=True)
@pytest.mark.parametrize("alias", ["imis", "imis_sqlite"])
def test_a_lock_timeout_keeps_the_batch_whole_and_retries_it_later(alias):
    build_sandbox(alias, members=40)
    interest = make_interest()
    changes = [
        PreferenceChange.objects.create(
            subscriber=sandbox_subscriber(i), interest=interest, new_value=True, source="form"
        )
        for i in range(20)
        if i != 16
    ]
    lock = CounterLocked(alias)
    try:
        started = timezone.now()
        result = push.changes_push(using=alias)
    finally:
        lock.release()
        connections[alias].close()

    assert (result.writes, result.retry_later, result.refused, result.done) == (1, 19, 0, 0)  # not split
    for change in PreferenceChange.objects.all():
        assert change.state == "pending" and change.last_error.startswith("iMIS unavailable: ")
        assert change.next_attempt_at >= started + datetime.timedelta(seconds=10)  # PUSH_RETRY_BASE_DELAY
    assert activities(alias=alias) == []

    when_due()
    result = push.changes_push(using=alias)

    assert (result.writes, result.done) == (1, 19)
    assert sorted(r[5] for r in activities(alias=alias)) == sorted(str(c.uuid) for c in changes)
