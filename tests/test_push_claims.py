"""Claims: a live worker keeps the changes it writes however long iMIS takes (its heartbeat renews the
claim), while the sweeper, running meanwhile, only takes back the changes of a worker that stopped."""

import datetime
import threading

import psycopg
import pytest
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from preference_center.imis.sandbox import build_sandbox
from subscribers.models import PreferenceChange
from sync.services import push
from tests.conftest import q
from tests.factories import make_interest, sandbox_subscriber
from tests.imis_helpers import activities

pytestmark = pytest.mark.django_db(databases=["default", "imis"], transaction=True)


def changes_to_push(n):
    interest = make_interest()
    return [
        PreferenceChange.objects.create(
            subscriber=sandbox_subscriber(i), interest=interest, new_value=True, source="form"
        )
        for i in range(n)
    ]


def hold_imis_counter():
    """Another iMIS session holds the Counter row: a batch waits on it until `rollback()`."""
    settings = connections["imis"].settings_dict
    holder = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
    )
    holder.execute(f"SELECT 1 FROM {q('imis', 'Counter')} WHERE {q('imis', 'COUNTER_NAME')} = 'Activity' FOR UPDATE")
    return holder


def in_thread(target):
    def run():
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@override_settings(PUSH_CLAIM_TIMEOUT=2)
def test_a_live_worker_keeps_its_claim_while_imis_takes_longer_than_the_claim_timeout():
    build_sandbox("imis", members=40)
    changes = changes_to_push(15)
    holder = hold_imis_counter()
    released, stop = [], threading.Event()

    def sweeper():  # beat's sweep, often, while the batch waits on iMIS for three claim timeouts
        while not stop.wait(0.3):
            released.append(push.changes_release_stale())

    def imis_lets_go():
        stop.wait(6)
        holder.rollback()

    threads = [in_thread(sweeper), in_thread(imis_lets_go)]
    try:
        result = push.changes_push()
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        holder.close()

    assert len(released) > 10 and sum(released) == 0  # the sweeper looked, and took nothing back
    assert result.done == 15
    assert sorted(r[5] for r in activities()) == sorted(str(c.uuid) for c in changes)
    assert set(PreferenceChange.objects.values_list("state", "attempts")) == {("done", 1)}


def test_a_claim_lapses_when_its_worker_stops_renewing_it():
    build_sandbox("imis", members=40)
    [change] = changes_to_push(1)
    claim = push.changes_claim()  # ... and its worker was killed: no heartbeat
    now = timezone.now()

    assert push.changes_release_stale(now=now + datetime.timedelta(seconds=44)) == 0
    assert push.changes_release_stale(now=now + datetime.timedelta(seconds=46)) == 1  # PUSH_CLAIM_TIMEOUT 45

    change.refresh_from_db()
    assert change.state == "pending" and claim.change_ids == [change.id]


def test_a_renewed_claim_lapses_a_claim_timeout_after_its_last_renewal():
    build_sandbox("imis", members=40)
    [change] = changes_to_push(1)
    claim = push.changes_claim()
    renewed_at = timezone.now() + datetime.timedelta(seconds=100)

    assert push.changes_claim_renew(claim=claim, now=renewed_at) == 1

    assert push.changes_release_stale(now=renewed_at + datetime.timedelta(seconds=44)) == 0
    assert push.changes_release_stale(now=renewed_at + datetime.timedelta(seconds=46)) == 1
