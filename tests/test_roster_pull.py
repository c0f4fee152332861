"""roster_pull: members and their checkbox values from the iMIS replica, and the two-way rule."""

import gc
import tracemalloc

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

from interests.models import RemoteInterest
from preference_center.imis.sandbox import build_sandbox, member_id
from subscribers.models import Preference, PreferenceChange, Subscriber
from subscribers.services.preferences import preferences_save
from sync.models import SyncRun
from sync.services import push
from sync.services.roster import roster_pull
from sync.tasks import pull_roster
from tests.conftest import fetch, q
from tests.embedded_helpers import facts_on
from tests.factories import make_interest

pytestmark = pytest.mark.django_db(databases=["default", "imis"])

FIELDS = [("ud_EmailPrefs", "NEWSLETTER"), ("ud_EmailPrefs", "EVENTS"), ("UD_Topics", "Policy_Updates")]


@pytest.fixture
def interests(imis_pg):
    return {
        field: RemoteInterest.objects.create(table_name=table, field_name=field, prompt=field, visible=True, position=i)
        for i, (table, field) in enumerate(FIELDS)
    }


def imis_value(i, field="NEWSLETTER", table="ud_EmailPrefs"):
    rows = fetch(
        "imis", f"SELECT {q('imis', field)} FROM {q('imis', table)} WHERE {q('imis', 'ID')} = %s", [member_id(i)]
    )
    return bool(rows[0][0]) if rows else None


def set_imis(i, value, field="NEWSLETTER", table="ud_EmailPrefs"):
    with connections["imis"].cursor() as cursor:
        cursor.execute(
            f"UPDATE {q('imis', table)} SET {q('imis', field)} = %s WHERE {q('imis', 'ID')} = %s", [value, member_id(i)]
        )


def run_sql(sql, params=()):
    with connections["imis"].cursor() as cursor:
        cursor.execute(sql, params)


def pref(i, interest):
    """The member's Preference; no row means off here and off in iMIS (rows are sparse)."""
    found = Preference.objects.filter(subscriber__imis_id=member_id(i), interest=interest).first()
    return found or Preference(value=False, imis_value=False)


def test_it_imports_the_roster_and_the_values_of_the_interests_on_the_form(interests):
    hidden = RemoteInterest.objects.create(table_name="UD_Topics", field_name="CE_Credits", visible=False)

    run = roster_pull()

    assert run.ok and run.kind == "pull" and run.finished_at is not None
    assert Subscriber.objects.count() == 40 == run.counts["members_created"] == run.counts["members_seen"]
    first = Subscriber.objects.get(imis_id=member_id(0))
    assert first.email == "member0@example.org" and first.first_name and first.status == "A" and first.active
    assert not Subscriber.objects.get(imis_id=member_id(12)).mailable  # no email
    assert not Subscriber.objects.get(imis_id=member_id(28)).mailable  # EXCLUDE_MAIL
    assert (
        run.counts["mailable"] == Subscriber.objects.filter(active=True, exclude_mail=False).exclude(email="").count()
    )
    # Values as in iMIS, no history for a first import.
    for i in (0, 1, 2, 3, 5, 8):
        assert pref(i, interests["NEWSLETTER"]).value is imis_value(i)
        assert pref(i, interests["NEWSLETTER"]).imis_value is imis_value(i)
        assert pref(i, interests["Policy_Updates"]).value is imis_value(i, "Policy_Updates", "UD_Topics")
    assert not PreferenceChange.objects.exists()
    assert not Preference.objects.filter(interest=hidden).exists()
    # Rows only for what is on: 40 members x 3 interests, most of them off, make far fewer rows.
    fields = (("NEWSLETTER", "ud_EmailPrefs"), ("EVENTS", "ud_EmailPrefs"), ("Policy_Updates", "UD_Topics"))
    on_in_imis = sum(1 for i in range(40) for field, table in fields if imis_value(i, field, table))
    assert Preference.objects.count() == on_in_imis == run.counts["preferences_created"] < 40 * 3
    assert not Preference.objects.filter(value=False).exists()
    # No ud_EmailPrefs row (every 17th member): nothing on there, no row here.
    assert not Preference.objects.filter(subscriber__imis_id=member_id(16), interest=interests["NEWSLETTER"]).exists()


def test_it_changes_nothing_on_a_second_pull_of_the_same_data(interests, django_assert_max_num_queries):
    roster_pull()
    before = list(Preference.objects.order_by("pk").values_list("pk", "value", "imis_value", "updated_at"))
    run = roster_pull()
    assert run.ok
    assert (run.counts["members_created"], run.counts["members_updated"], run.counts["members_deactivated"]) == (
        0,
        0,
        0,
    )
    assert run.counts.get("preferences_changed_in_imis", 0) == 0
    assert list(Preference.objects.order_by("pk").values_list("pk", "value", "imis_value", "updated_at")) == before
    assert not PreferenceChange.objects.exists()


def test_it_lets_imis_win_when_no_local_change_is_pending(interests):
    roster_pull()
    newsletter = interests["NEWSLETTER"]
    old = imis_value(0)
    set_imis(0, not old)

    run = roster_pull()

    preference = pref(0, newsletter)
    assert (preference.value, preference.imis_value) == (not old, not old)
    (change,) = PreferenceChange.objects.all()
    assert (change.source, change.state, change.old_value, change.new_value) == ("imis", "not_needed", old, not old)
    assert change.subscriber.imis_id == member_id(0) and change.interest == newsletter
    assert run.counts["preferences_changed_in_imis"] == 1
    roster_pull()
    assert PreferenceChange.objects.count() == 1  # seen once, recorded once


def test_it_keeps_a_pending_local_change_and_records_why(interests):
    roster_pull()
    newsletter = interests["NEWSLETTER"]
    subscriber = Subscriber.objects.get(imis_id=member_id(0))
    old = imis_value(0)
    # The member changes their mind twice (both changes wait for the push), and staff flip it in iMIS.
    preferences_save(subscriber=subscriber, wanted={newsletter.pk: not old}, source="form")
    preferences_save(subscriber=subscriber, wanted={newsletter.pk: old}, source="form")
    set_imis(0, not old)

    run = roster_pull()

    preference = pref(0, newsletter)
    assert preference.value is old  # the member's latest choice stands: it is on its way to iMIS
    assert preference.imis_value is (not old)  # what iMIS holds now
    assert PreferenceChange.objects.filter(source="form", state="pending").count() == 2
    decision = PreferenceChange.objects.get(source="imis")
    assert decision.state == "not_needed" and (decision.old_value, decision.new_value) == (old, not old)
    assert "waiting to be written to iMIS" in decision.note and "form" in decision.note
    assert run.counts["preferences_local_kept"] == 1
    roster_pull()
    assert PreferenceChange.objects.filter(source="imis").count() == 1


def test_it_deactivates_members_gone_from_imis_and_reactivates_returning_ones(interests):
    roster_pull()
    saved = fetch(
        "imis", f"SELECT * FROM {q('imis', 'Name')} WHERE {q('imis', 'ID')} IN (%s, %s)", [member_id(0), member_id(39)]
    )
    run_sql(
        f"DELETE FROM {q('imis', 'Name')} WHERE {q('imis', 'ID')} IN (%s, %s, %s)",
        [member_id(0), member_id(20), member_id(39)],
    )

    with override_settings(IMIS_CHUNK_SIZE=7):
        run = roster_pull()

    assert run.counts["members_deactivated"] == 3
    gone = set(Subscriber.objects.filter(active=False).values_list("imis_id", flat=True))
    assert gone == {member_id(0), member_id(20), member_id(39)}
    assert Subscriber.objects.count() == 40  # never deleted
    columns = [
        c.name for c in connections["imis"].introspection.get_table_description(connections["imis"].cursor(), "Name")
    ]
    placeholders = ", ".join(["%s"] * len(columns))
    for row in saved:
        run_sql(
            f"INSERT INTO {q('imis', 'Name')} ({', '.join(q('imis', c) for c in columns)}) VALUES ({placeholders})", row
        )
    run = roster_pull()
    assert run.counts["members_reactivated"] == 2
    assert set(Subscriber.objects.filter(active=False).values_list("imis_id", flat=True)) == {member_id(20)}


def test_it_updates_changed_member_details(interests):
    roster_pull()
    run_sql(
        f"UPDATE {q('imis', 'Name')} SET {q('imis', 'EMAIL')} = %s, {q('imis', 'EXCLUDE_MAIL')} = %s WHERE {q('imis', 'ID')} = %s",
        ["new.address@example.org", True, member_id(3)],
    )
    run = roster_pull()
    member = Subscriber.objects.get(imis_id=member_id(3))
    assert member.email == "new.address@example.org" and member.exclude_mail and not member.mailable
    assert run.counts["members_updated"] == 1


def test_it_refuses_to_deactivate_everyone_when_imis_returns_no_members(interests):
    roster_pull()
    run_sql(f"DELETE FROM {q('imis', 'Name')}")
    run = roster_pull()
    assert not run.ok and "no members" in run.error
    assert Subscriber.objects.filter(active=True).count() == 40


def test_it_gives_the_same_result_whatever_the_chunk_size(interests):
    with override_settings(IMIS_CHUNK_SIZE=3):
        roster_pull()
    small = sorted(Preference.objects.values_list("subscriber__imis_id", "interest_id", "value", "imis_value"))
    Preference.objects.all().delete()
    Subscriber.objects.all().delete()
    roster_pull()
    assert sorted(Preference.objects.values_list("subscriber__imis_id", "interest_id", "value", "imis_value")) == small


@pytest.mark.django_db(databases=["default", "imis"], transaction=True)  # each chunk commits, as in production
def test_it_imports_with_flat_memory(interests):
    """Peak memory depends on the chunk size, not on the size of the roster."""

    def peak(members):
        build_sandbox("imis", members=members)
        Preference.objects.all().delete()
        Subscriber.objects.all().delete()
        gc.collect()
        tracemalloc.start()
        try:
            with override_settings(IMIS_CHUNK_SIZE=100):
                assert roster_pull().counts["members_seen"] == members
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    # A first pull carries the process's one-time allocations (imports, caches), and the first few thousand
    # rows fill the interpreter's free lists (the peak levels off at about 3,000 members): both would hide
    # growth, so both sizes are measured after that.
    peak(3000)
    small, large = peak(1500), peak(6000)
    assert large < small * 1.5


@pytest.mark.django_db(databases=["default", "imis"], transaction=True)  # iMIS's errors end no test transaction
def test_it_records_a_failure_in_the_run(interests):
    run_sql(f"DROP TABLE {q('imis', 'UD_Topics')}")
    run = roster_pull()
    assert not run.ok and "UD_Topics" in run.error
    assert Subscriber.objects.count() == 40  # the rest of the pull went through
    newsletter_on = sum(1 for i in range(40) if imis_value(i))
    assert Preference.objects.filter(interest=interests["NEWSLETTER"], value=True).count() == newsletter_on > 0


def test_it_runs_as_a_celery_task(interests):
    run_id = pull_roster.delay().get()
    run = SyncRun.objects.get(pk=run_id)
    assert run.ok and run.counts["members_seen"] == 40


def test_it_runs_as_a_command_with_a_summary(interests, capsys):
    call_command("imis_pull", verbosity=0)
    out = capsys.readouterr().out
    assert "Pulled from iMIS" in out and "members_seen 40" in out
    assert SyncRun.objects.filter(kind="pull", ok=True).count() == 1


@override_settings(IMIS_CHUNK_SIZE=3)
def test_it_keeps_members_active_when_imis_sorts_ids_differently_from_us(interests):
    # SQL Server usually compares case-insensitively ('a1' < 'B1'); our PostgreSQL compares bytes
    # ('B1' < 'a1'). Whatever the two orders, nobody still in iMIS may be deactivated.
    run_sql(f'ALTER TABLE {q("imis", "Name")} ALTER COLUMN {q("imis", "ID")} TYPE varchar(10) COLLATE "und-x-icu"')
    run_sql(f"DELETE FROM {q('imis', 'Name')}")
    ids = ["a1", "B1", "c1", "D1", "e1", "F1", "g1"]
    for imis_id in ids:
        run_sql(
            f"INSERT INTO {q('imis', 'Name')} ({q('imis', 'ID')}, {q('imis', 'EMAIL')}) VALUES (%s, %s)",
            [imis_id, f"{imis_id}@example.org"],
        )

    roster_pull()
    run = roster_pull()

    assert run.counts["members_deactivated"] == 0
    assert sorted(Subscriber.objects.filter(active=True).values_list("imis_id", flat=True)) == sorted(ids)


def test_a_kept_local_change_still_reaches_imis_after_the_pull_recorded_what_imis_held(interests):
    roster_pull()
    newsletter = interests["NEWSLETTER"]
    subscriber = Subscriber.objects.get(imis_id=member_id(1))
    old = imis_value(1)
    preferences_save(subscriber=subscriber, wanted={newsletter.pk: not old}, source="form")
    [latest] = preferences_save(subscriber=subscriber, wanted={newsletter.pk: old}, source="form")
    set_imis(1, not old)
    roster_pull()  # keeps the member's choice, records what iMIS held (a newer history row)

    push.changes_push()

    latest.refresh_from_db()
    assert latest.state == PreferenceChange.State.DONE  # not superseded by the pull's history row
    assert imis_value(1) is old
    roster_pull()
    assert pref(1, newsletter).value is old  # the member's choice stuck


def test_a_pull_that_outlived_its_lock_never_deactivates_members_a_later_pull_saw(interests):
    """IMIS_PULL_LOCK_SECONDS expired during a long pull and a second pull ran meanwhile: the members it
    marked (later than the first pull started) are still in iMIS."""
    from django.core.cache import cache

    from sync.services.roster import LOCK_KEY

    roster_pull()
    overtaken = []

    def second_pull_meanwhile(stage, n):
        if stage == "members" and not overtaken:
            cache.delete(LOCK_KEY)  # the lock expired
            overtaken.append(roster_pull())

    with override_settings(IMIS_CHUNK_SIZE=10):
        run = roster_pull(progress=second_pull_meanwhile)

    assert overtaken[0].ok and run.ok
    assert run.counts["members_deactivated"] == 0
    assert Subscriber.objects.filter(active=False).count() == 0
    # Nor does it move their "last seen" back before the later pull (which would deactivate them there).
    assert not Subscriber.objects.filter(last_seen_in_imis_at__lt=overtaken[0].started_at).exists()


def test_a_pull_interrupted_by_imis_going_down_deactivates_nobody(interests):
    roster_pull()
    real = dict(connections["imis"].settings_dict)

    def imis_goes_down(stage, n):
        connections["imis"].close()
        connections["imis"].settings_dict.update(HOST="127.0.0.1", PORT="1")

    try:
        with override_settings(IMIS_CHUNK_SIZE=10):
            run = roster_pull(progress=imis_goes_down)
    finally:
        connections["imis"].close()
        connections["imis"].settings_dict.update(real)

    assert not run.ok and "Unavailable" in run.error
    assert Subscriber.objects.filter(active=False).count() == 0


def test_a_value_read_from_imis_just_before_a_push_wrote_it_does_not_undo_the_members_choice(interests, monkeypatch):
    from preference_center import imis

    roster_pull()
    newsletter = interests["NEWSLETTER"]
    subscriber = Subscriber.objects.get(imis_id=member_id(2))
    old = imis_value(2)
    [change] = preferences_save(subscriber=subscriber, wanted={newsletter.pk: not old}, source="form")
    real = imis.iter_checkbox_values

    def push_right_after_the_read(table, *args, **kwargs):
        for chunk in real(table, *args, **kwargs):
            if table == "ud_EmailPrefs":
                push.changes_push()  # iMIS commits the member's value, the change is done, imis_value follows
            yield chunk  # what the pull read before that

    monkeypatch.setattr(imis, "iter_checkbox_values", push_right_after_the_read)
    run = roster_pull()

    change.refresh_from_db()
    assert change.state == "done" and imis_value(2) is (not old)
    assert pref(2, newsletter).value is (not old)  # not "changed in iMIS" back to the stale value
    assert run.counts.get("preferences_changed_in_imis", 0) == 0
    assert not PreferenceChange.objects.filter(source="imis").exists()


def test_it_records_a_value_turned_on_in_imis_for_a_member_who_had_it_off(interests):
    newsletter = interests["NEWSLETTER"]
    i = next(i for i in range(40) if i % 17 != 16 and imis_value(i) is False)
    roster_pull()
    assert not Preference.objects.filter(subscriber__imis_id=member_id(i), interest=newsletter).exists()
    set_imis(i, True)

    run = roster_pull()

    assert (pref(i, newsletter).value, pref(i, newsletter).imis_value) == (True, True)
    (change,) = PreferenceChange.objects.all()
    assert (change.source, change.state, change.old_value, change.new_value) == ("imis", "not_needed", False, True)
    assert change.subscriber.imis_id == member_id(i) and change.note == "changed in iMIS"
    assert run.counts["preferences_changed_in_imis"] == 1


def test_it_takes_a_newly_shown_interest_s_values_without_history(interests):
    roster_pull()
    events = RemoteInterest.objects.create(table_name="UD_Topics", field_name="CE_Credits", visible=True)

    run = roster_pull()

    assert run.ok and not PreferenceChange.objects.exists()  # a first sight, not changes made in iMIS
    on = sum(1 for i in range(40) if imis_value(i, "CE_Credits", "UD_Topics"))
    assert Preference.objects.filter(interest=events, value=True, imis_value=True).count() == on > 0
    events.refresh_from_db()
    assert events.values_pulled_at == run.started_at


@pytest.mark.django_db
def test_it_leaves_rows_made_meanwhile_alone_and_counts_only_what_it_inserted():
    # The pull reads a chunk's members and rows, then inserts: a member created by another pull, or a row a
    # member's save made, in between is skipped rather than failing the chunk, and is not counted.
    from preference_center.lib.bulk_insert import insert_new
    from sync.services.roster import MEMBER_FIELDS

    interest = RemoteInterest.objects.create(table_name="ud_EmailPrefs", field_name="NEWSLETTER", visible=True)
    taken = Subscriber.objects.create(imis_id="100", first_name="Ada")
    now = taken.created_at
    columns = ("imis_id", *MEMBER_FIELDS)
    members = [
        (imis_id, "", first, "", "", "A", False, False, "") for imis_id, first in (("100", "Not Ada"), ("101", "Bea"))
    ]
    same = {"active": True, "last_seen_in_imis_at": now, "token_version": 1, "created_at": now, "updated_at": now}

    assert insert_new(Subscriber, columns, members, **same) == 1
    assert dict(Subscriber.objects.values_list("imis_id", "first_name")) == {"100": "Ada", "101": "Bea"}
    bea = Subscriber.objects.get(imis_id="101")
    assert (bea.active, bea.last_seen_in_imis_at, bea.token_version) == (True, now, 1)

    Preference.objects.create(subscriber=taken, interest=interest, value=False, imis_value=False)  # a save's row
    rows = [(s.pk, interest.pk) for s in (taken, bea)]
    same = {"value": True, "imis_value": True, "updated_at": now}
    assert insert_new(Preference, ("subscriber_id", "interest_id"), rows, **same) == 1
    assert dict(Preference.objects.values_list("subscriber__imis_id", "value")) == {"100": False, "101": True}
    # Without a conflict, every row is inserted (and counted) at once.
    carl = Subscriber.objects.create(imis_id="102")
    assert insert_new(Preference, ("subscriber_id", "interest_id"), [(carl.pk, interest.pk)], **same) == 1
    assert Preference.objects.get(subscriber=carl).value is True


def imis_history(i, old):
    """The pull's one history row of member `i`: [state, old -> new as iMIS flipped it, says the member's
    change waits for the push]."""
    [change] = PreferenceChange.objects.filter(source="imis", subscriber__imis_id=member_id(i))
    flipped = (change.old_value, change.new_value) == (old, not old)
    return [change.state, flipped, "waiting to be written to iMIS" in change.note]


def pull_facts():
    """A first import, then a pull after iMIS changed a value, a member's details and its roster while a
    member's own change waits for the push (run on PostgreSQL and on SQLite, whose inserts take other paths)."""
    build_sandbox("imis", members=40)
    interests = {
        field: make_interest(table_name=table, field_name=field, prompt=field, position=i)
        for i, (table, field) in enumerate(FIELDS)
    }
    newsletter = interests["NEWSLETTER"]
    first = roster_pull()
    on_in_imis = sum(1 for i in range(40) for table, field in FIELDS if imis_value(i, field, table))
    imported = [
        all(pref(i, interests[field]).value is bool(imis_value(i, field, table)) for i in range(40))
        for table, field in FIELDS
    ]
    history_after_first = PreferenceChange.objects.count()
    old = [imis_value(0), imis_value(1)]
    set_imis(0, not old[0])  # staff change member 0 in iMIS
    member = Subscriber.objects.get(imis_id=member_id(1))  # member 1 changes their mind twice, staff flip it
    preferences_save(subscriber=member, wanted={newsletter.pk: not old[1]}, source="form")
    preferences_save(subscriber=member, wanted={newsletter.pk: old[1]}, source="form")
    set_imis(1, not old[1])
    run_sql(
        f"UPDATE {q('imis', 'Name')} SET {q('imis', 'EMAIL')} = %s WHERE {q('imis', 'ID')} = %s",
        ["new.address@example.org", member_id(3)],
    )
    run_sql(f"DELETE FROM {q('imis', 'Name')} WHERE {q('imis', 'ID')} = %s", [member_id(39)])
    second = roster_pull()
    counted = ("members_created", "members_updated", "members_deactivated", "preferences_changed_in_imis")
    return {
        "first": [first.ok, first.counts["members_created"], first.counts["preferences_created"] == on_in_imis],
        "imported as in iMIS": imported,
        "history after the first": history_after_first,
        "second": [second.ok, *(second.counts.get(name, 0) for name in counted)],
        "kept": second.counts.get("preferences_local_kept", 0),
        "member 0 (value, imis_value) is iMIS's": [pref(0, newsletter).value is not old[0],
                                                  pref(0, newsletter).imis_value is not old[0]],
        "member 1 (value, imis_value) is theirs, iMIS's": [pref(1, newsletter).value is old[1],
                                                          pref(1, newsletter).imis_value is not old[1]],
        "iMIS's history of member 0": imis_history(0, old[0]),
        "iMIS's history of member 1": imis_history(1, old[1]),
        "member 3's address": Subscriber.objects.get(imis_id=member_id(3)).email,
        "member 39 active": Subscriber.objects.get(imis_id=member_id(39)).active,
    }  # fmt: skip


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_it_pulls_alike_on_postgresql_and_on_sqlite(database, embedded_default):
    facts = facts_on(database, pull_facts, embedded_default)

    assert facts["first"] == [True, 40, True]
    assert facts["imported as in iMIS"] == [True, True, True]
    assert facts["history after the first"] == 0
    assert facts["second"] == [True, 0, 1, 1, 1]
    assert facts["kept"] == 1
    assert facts["member 0 (value, imis_value) is iMIS's"] == [True, True]
    assert facts["member 1 (value, imis_value) is theirs, iMIS's"] == [True, True]
    # One history row each, old -> new as iMIS changed it: member 0's taken, member 1's not, with the reason.
    assert facts["iMIS's history of member 0"] == ["not_needed", True, False]
    assert facts["iMIS's history of member 1"] == ["not_needed", True, True]
    assert facts["member 3's address"] == "new.address@example.org"
    assert facts["member 39 active"] is False
