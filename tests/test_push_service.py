"""The push service on the PostgreSQL iMIS replica, in-process (no worker): one test per outcome."""

import datetime

import pytest
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from preference_center import imis
from preference_center.imis.sandbox import build_sandbox, member_id
from subscribers.models import Preference, PreferenceChange
from sync.models import SyncRun
from sync.services import push
from tests.conftest import fetch, q
from tests.embedded_helpers import facts_on
from tests.factories import make_interest, sandbox_subscriber
from tests.imis_helpers import activities, ud_value
from tests.sync_helpers import member_saves

pytestmark = pytest.mark.django_db(databases=["default", "imis"])

NO_EMAILPREFS_ROW = 16  # the sandbox gives every 17th member no ud_EmailPrefs row


@pytest.fixture
def imis_down(imis_pg):
    """iMIS unreachable: the `imis` alias points at a port where nothing listens, until the test ends."""
    connection = connections["imis"]
    real = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1", OPTIONS={**real["OPTIONS"], "connect_timeout": 2})
    yield lambda: (connection.close(), connection.settings_dict.update(real))
    connection.close()
    connection.settings_dict.update(real)


@pytest.fixture
def interest(imis_pg):
    return make_interest(prompt="Monthly newsletter")


def state_of(change):
    change.refresh_from_db()
    return change.state


def imis_naive(value):
    return timezone.localtime(value).replace(tzinfo=None)


def test_it_writes_the_value_and_one_activity_row_then_marks_the_change_done(interest):
    member = sandbox_subscriber(3)
    change = member_saves(member, interest, not ud_value(member.imis_id))
    wanted = change.new_value

    result = push.changes_push()

    assert result.done == 1 and result.failed == 0
    assert ud_value(member.imis_id) is wanted
    [row] = activities()
    seqn, imis_id, activity_type, product_code, description, source_code, when = row
    assert (imis_id, activity_type, product_code, source_code) == (
        member.imis_id,
        "iOptout",
        "NEWSLETTER",
        str(change.uuid),
    )
    assert description == f"Opted {'in' if wanted else 'out'}: Monthly newsletter"
    assert when == imis_naive(change.created_at)  # when the member changed it, not when it was pushed
    change.refresh_from_db()
    assert change.state == PreferenceChange.State.DONE
    assert change.activity_seqn == seqn and change.synced_at is not None and change.attempts == 1
    assert Preference.objects.get(subscriber=member, interest=interest).imis_value is wanted


def test_it_uses_the_product_code_and_label_staff_chose(imis_pg):
    interest = make_interest(product_code="NEWS_OPT", label="The Monthly Bulletin")
    change = member_saves(sandbox_subscriber(1), interest, False)

    push.changes_push()

    [(_seqn, _id, _type, product_code, description, source_code, _when)] = activities()
    assert (product_code, description, source_code) == ("NEWS_OPT", "Opted out: The Monthly Bulletin", str(change.uuid))


def test_it_writes_only_the_latest_change_of_a_member_and_interest(interest):
    member = sandbox_subscriber(2)
    first = member_saves(member, interest, True)
    second = member_saves(member, interest, False)
    last = member_saves(member, interest, True)

    result = push.changes_push()

    assert (result.done, result.not_needed) == (1, 2)
    assert [state_of(c) for c in (first, second, last)] == ["not_needed", "not_needed", "done"]
    assert [r[5] for r in activities()] == [str(last.uuid)]
    assert ud_value(member.imis_id) is True
    assert PreferenceChange.objects.count() == 3  # history stays


def test_it_pushes_many_members_in_batches_of_one_imis_transaction_each(interest):
    changes = [member_saves(sandbox_subscriber(i), interest, i % 2 == 0) for i in range(30) if i != NO_EMAILPREFS_ROW]

    with override_settings(PUSH_BATCH_SIZE=8):
        result = push.changes_push()

    assert result.done == 29
    assert SyncRun.objects.get(kind="push").counts["batches"] == 4
    rows = activities()
    assert sorted(r[5] for r in rows) == sorted(str(c.uuid) for c in changes)
    assert len({r[0] for r in rows}) == 29
    assert all(ud_value(member_id(i)) is (i % 2 == 0) for i in range(30) if i != NO_EMAILPREFS_ROW)


@pytest.mark.django_db(databases=["default", "imis"], transaction=True)
def test_it_keeps_the_change_pending_with_a_growing_backoff_while_imis_is_unreachable(interest, imis_down):
    with override_settings(PUSH_RETRY_BASE_DELAY=10, PUSH_RETRY_MAX_DELAY=25):
        before = timezone.now()
        change = member_saves(
            sandbox_subscriber(4), interest, True
        )  # the save pushes at once (eager here): iMIS is down

        change.refresh_from_db()
        assert change.state == PreferenceChange.State.PENDING and change.attempts == 1
        assert change.last_error.startswith("iMIS unavailable")
        assert before + datetime.timedelta(seconds=10) <= change.next_attempt_at
        assert push.changes_push().claimed == 0  # not due yet: nothing is tried

        def when_due():
            PreferenceChange.objects.filter(id=change.id).update(next_attempt_at=timezone.now())

        when_due()
        assert push.changes_push().retry_in == 20
        when_due()
        assert push.changes_push().retry_in == 25  # capped

    change.refresh_from_db()
    assert change.attempts == 3 and change.state == PreferenceChange.State.PENDING
    run = SyncRun.objects.filter(kind="push").first()
    assert not run.ok and "unavailable" in run.error

    imis_down()  # iMIS is back
    when_due()
    assert push.changes_push().done == 1
    assert [r[5] for r in activities()] == [str(change.uuid)]


def test_it_fails_a_member_without_a_ud_row_with_a_plain_reason_and_creates_nothing(interest):
    missing = member_saves(sandbox_subscriber(NO_EMAILPREFS_ROW), interest, True)
    fine = member_saves(sandbox_subscriber(5), interest, True)

    result = push.changes_push()

    assert (result.done, result.failed) == (1, 1)
    missing.refresh_from_db()
    assert missing.state == PreferenceChange.State.FAILED
    assert missing.last_error == (
        f"iMIS has no ud_EmailPrefs row for member {member_id(NO_EMAILPREFS_ROW)}: add it in iMIS, then retry "
        "(or set IMIS_CREATE_MISSING_UD_ROWS)"
    )
    assert ud_value(member_id(NO_EMAILPREFS_ROW)) == "no row"
    assert [r[5] for r in activities()] == [str(fine.uuid)]
    assert Preference.objects.get(subscriber__imis_id=member_id(NO_EMAILPREFS_ROW)).imis_value is None


@override_settings(IMIS_CREATE_MISSING_UD_ROWS=True)
def test_it_creates_the_missing_ud_row_when_the_setting_allows_it(interest):
    change = member_saves(sandbox_subscriber(NO_EMAILPREFS_ROW), interest, True)

    assert push.changes_push().done == 1

    assert ud_value(member_id(NO_EMAILPREFS_ROW)) is True
    assert [r[5] for r in activities()] == [str(change.uuid)]


def test_it_retries_a_failed_change_after_staff_fixed_imis(interest, django_capture_on_commit_callbacks):
    change = member_saves(sandbox_subscriber(NO_EMAILPREFS_ROW), interest, True)
    push.changes_push()
    with connections["imis"].cursor() as cursor:
        cursor.execute(f"INSERT INTO {q('imis', 'ud_EmailPrefs')} ({q('imis', 'ID')}) VALUES (%s)", [member_id(16)])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert push.changes_retry(change_ids=[change.id]) == 1

    assert len(callbacks) == 1  # the push went out right away (eager here)
    assert state_of(change) == PreferenceChange.State.DONE
    assert ud_value(member_id(NO_EMAILPREFS_ROW)) is True


def test_it_marks_done_without_a_second_activity_row_a_change_imis_committed_before_a_crash(interest):
    change = member_saves(sandbox_subscriber(6), interest, True)
    claim = push.changes_claim()
    # The worker wrote the batch, iMIS committed, and the worker died before recording it.
    [outcome] = imis.write_changes([push._value_change(c) for c in push._outgoing(claim)])

    assert push.changes_release_stale(now=timezone.now() + datetime.timedelta(hours=1)) == 1
    result = push.changes_push()

    assert result.done == 1 and claim.change_ids == [change.id]
    change.refresh_from_db()
    assert change.state == PreferenceChange.State.DONE and change.activity_seqn == outcome.seqn
    assert change.attempts == 2
    assert [r[5] for r in activities()] == [str(change.uuid)]


def test_it_puts_a_change_stuck_in_sending_back_to_pending_after_the_claim_timeout(interest):
    change = member_saves(sandbox_subscriber(7), interest, True)
    claimed_at = push.changes_claim().claimed_at

    with override_settings(PUSH_CLAIM_TIMEOUT=300):
        assert push.changes_release_stale(now=claimed_at + datetime.timedelta(seconds=299)) == 0
        assert state_of(change) == PreferenceChange.State.SENDING
        assert push.changes_release_stale(now=claimed_at + datetime.timedelta(seconds=301)) == 1

    change.refresh_from_db()
    assert change.state == PreferenceChange.State.PENDING and "worker was lost" in change.last_error


def test_it_never_writes_a_pair_while_an_older_change_of_it_is_still_in_flight(interest):
    member = sandbox_subscriber(8)
    older = member_saves(member, interest, True)
    claim = push.changes_claim()
    newer = member_saves(member, interest, False)

    assert push.changes_claim().change_ids == []  # newer waits: writing it now could be overwritten by older
    assert state_of(newer) == PreferenceChange.State.PENDING
    push.changes_push_claimed(claim=claim)
    assert push.changes_push().done == 1

    assert [state_of(older), state_of(newer)] == ["done", "done"]
    assert [r[5] for r in activities()] == [str(older.uuid), str(newer.uuid)]
    assert ud_value(member.imis_id) is False


def test_it_gives_two_claimers_disjoint_changes(interest):
    for i in range(10):
        member_saves(sandbox_subscriber(i), interest, True)

    first = push.changes_claim(limit=4)
    second = push.changes_claim(limit=4)

    assert len(first.change_ids) == len(second.change_ids) == 4
    assert not set(first.change_ids) & set(second.change_ids)


@override_settings(PUSH_MAX_ATTEMPTS=1)
def test_it_fails_a_change_with_the_reason_when_imis_refuses_it(interest):
    change = member_saves(sandbox_subscriber(9), interest, True)
    before = ud_value(member_id(9))
    with connections["imis"].cursor() as cursor:
        cursor.execute(f"DELETE FROM {q('imis', 'Counter')} WHERE {q('imis', 'COUNTER_NAME')} = 'Activity'")

    result = push.changes_push()

    assert result.failed == 1
    change.refresh_from_db()
    assert change.state == PreferenceChange.State.FAILED
    assert change.last_error == "iMIS refused it: iMIS has no Counter row 'Activity'"
    assert ud_value(member_id(9)) == before  # the whole iMIS transaction was rolled back
    assert activities() == []


@override_settings(IMIS_WRITE_NAME_LOG=True)
def test_it_writes_a_name_log_row_when_the_setting_asks_for_it(interest):
    member = sandbox_subscriber(10)
    with connections["imis"].cursor() as cursor:
        cursor.execute(
            f"UPDATE {q('imis', 'ud_EmailPrefs')} SET {q('imis', 'NEWSLETTER')} = false WHERE {q('imis', 'ID')} = %s",
            [member.imis_id],
        )
    member_saves(member, interest, True)

    push.changes_push()

    rows = fetch(
        "imis",
        f"SELECT {q('imis', 'LOG_TYPE')}, {q('imis', 'ID')}, {q('imis', 'LOG_TEXT')}, {q('imis', 'USER_ID')} "
        f"FROM {q('imis', 'Name_Log')}",
    )
    assert rows == [("CHANGE", member.imis_id, "ud_EmailPrefs.NEWSLETTER: 0 -> 1", "PREFCENTER")]


def test_it_writes_no_name_log_row_by_default(interest):
    member_saves(sandbox_subscriber(10), interest, True)

    push.changes_push()

    assert fetch("imis", f"SELECT COUNT(*) FROM {q('imis', 'Name_Log')}") == [(0,)]


def test_it_caps_the_backoff():
    with override_settings(PUSH_RETRY_BASE_DELAY=10, PUSH_RETRY_MAX_DELAY=600):
        assert [push.retry_delay(n) for n in (1, 2, 3, 6, 7, 100)] == [10, 20, 40, 320, 600, 600]


def test_it_records_nothing_when_nothing_is_pending(interest):
    assert push.changes_push().claimed == 0
    assert not SyncRun.objects.exists()


def test_it_says_when_a_change_waiting_for_its_backoff_is_due(imis_pg):
    change = member_saves(sandbox_subscriber(1), make_interest(), True)
    PreferenceChange.objects.filter(pk=change.pk).update(
        next_attempt_at=timezone.now() + datetime.timedelta(seconds=30), attempts=2
    )

    result = push.changes_push()

    assert result.claimed == 0 and not result.retry_later
    assert 25 < result.wake_in <= 30  # the task comes back then, not only at the next sweep


def test_it_has_nothing_to_wake_for_when_nothing_waits(imis_pg):
    member_saves(sandbox_subscriber(1), make_interest(), True)
    assert push.changes_push().wake_in is None


def test_an_older_change_imis_committed_before_a_crash_is_recorded_done_even_when_superseded(interest):
    member = sandbox_subscriber(9)
    older = member_saves(member, interest, True)
    claim = push.changes_claim()
    # The worker wrote the batch, iMIS committed, the worker died; meanwhile the member changed it again.
    [outcome] = imis.write_changes([push._value_change(c) for c in push._outgoing(claim)])
    newer = member_saves(member, interest, False)

    assert push.changes_release_stale(now=timezone.now() + datetime.timedelta(hours=1)) == 1
    result = push.changes_push()

    older.refresh_from_db()
    assert older.state == PreferenceChange.State.DONE and older.activity_seqn == outcome.seqn  # as iMIS has it
    assert state_of(newer) == PreferenceChange.State.DONE
    assert [r[5] for r in activities()] == [str(older.uuid), str(newer.uuid)]
    assert ud_value(member.imis_id) is False
    assert (result.done, result.not_needed) == (2, 0)


def test_an_older_change_never_written_is_still_not_needed_when_superseded(interest):
    member = sandbox_subscriber(10)
    older = member_saves(member, interest, True)
    push.changes_claim()  # the worker died before writing anything
    newer = member_saves(member, interest, False)

    push.changes_release_stale(now=timezone.now() + datetime.timedelta(hours=1))
    result = push.changes_push()

    assert [state_of(older), state_of(newer)] == ["not_needed", "done"]
    assert [r[5] for r in activities()] == [str(newer.uuid)]
    assert (result.done, result.not_needed) == (1, 1)


def push_facts():
    """Saves of three members (one of them twice) and of a member without a UD row, then one push: what it
    wrote to iMIS and to our rows (run on PostgreSQL and on SQLite, where claims lock no rows)."""
    build_sandbox("imis", members=40)
    interest = make_interest(prompt="Monthly newsletter")
    member_saves(sandbox_subscriber(1), interest, True)
    latest = [member_saves(sandbox_subscriber(i), interest, value) for i, value in ((1, False), (2, True), (3, False))]
    missing = member_saves(sandbox_subscriber(NO_EMAILPREFS_ROW), interest, True)

    result = push.changes_push()

    missing.refresh_from_db()
    in_imis = [ud_value(member_id(i)) for i in (1, 2, 3, NO_EMAILPREFS_ROW)]
    return {
        "done, not needed, failed": [result.done, result.not_needed, result.failed],
        "states": sorted(PreferenceChange.objects.values_list("state", flat=True)),
        "in iMIS": [value if value == "no row" else bool(value) for value in in_imis],
        "one Activity per latest change": sorted(r[5] for r in activities()) == sorted(str(c.uuid) for c in latest),
        "imis_value": [
            Preference.objects.get(subscriber__imis_id=member_id(i), interest=interest).imis_value for i in (1, 2, 3)
        ],
        "why it failed": missing.last_error.split(":")[0],
    }


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_it_pushes_alike_on_postgresql_and_on_sqlite(database, embedded_default):
    facts = facts_on(database, push_facts, embedded_default)

    assert facts["done, not needed, failed"] == [3, 1, 1]
    assert facts["states"] == ["done", "done", "done", "failed", "not_needed"]
    assert facts["in iMIS"] == [False, True, False, "no row"]
    assert facts["one Activity per latest change"] is True
    assert facts["imis_value"] == [False, True, False]
    assert facts["why it failed"] == f"iMIS has no ud_EmailPrefs row for member {member_id(NO_EMAILPREFS_ROW)}"
