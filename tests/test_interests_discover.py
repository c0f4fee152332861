"""interests_discover: RemoteInterest follows iMIS's checkbox fields, on the PostgreSQL and SQLite replicas."""

import pytest

from interests.models import RemoteInterest, SkippedImisField
from interests.selectors import interests_on_form
from subscribers.models import PreferenceChange
from sync.models import SyncRun
from sync.services.discovery import interests_discover
from tests.conftest import ALL_DATABASES, fetch, q
from tests.factories import make_preference, make_subscriber
from tests.interests_helpers import (
    add_ud_field,
    drop_ud_field,
    execute,
    rename_ud_field,
    set_multi_instance,
    set_prompt,
)

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

DEMO_FIELDS = [
    ("ud_EmailPrefs", "NEWSLETTER"),
    ("ud_EmailPrefs", "EVENTS"),
    ("ud_EmailPrefs", "ADVOCACY_ALERT"),
    ("UD_Topics", "Policy_Updates"),
    ("UD_Topics", "Research_Digest"),
    ("UD_Topics", "CE_Credits"),
    ("UD_Topics", "Volunteering"),
]


def interests():
    return {(i.table_name, i.field_name): i for i in RemoteInterest.objects.all()}


def skipped():
    return {(s.table_name, s.field_name): s.reason for s in SkippedImisField.objects.all()}


def test_it_adds_every_checkbox_field_hidden_and_labelled_from_imis(imis_replica):
    run = interests_discover(using=imis_replica)

    assert run.ok and run.kind == SyncRun.Kind.DISCOVER and run.error == ""
    assert run.finished_at >= run.started_at
    assert run.counts == {"found": 7, "added": 7, "updated": 0, "returned": 0, "missing": 0, "skipped": 6}
    assert list(RemoteInterest.objects.values_list("table_name", "field_name")) == DEMO_FIELDS
    newsletter = interests()[("ud_EmailPrefs", "NEWSLETTER")]
    assert (newsletter.prompt, newsletter.label) == ("Monthly newsletter", "Monthly newsletter")
    assert newsletter.description == "News from the association, once a month"
    assert not RemoteInterest.objects.filter(visible=True).exists()
    assert list(interests_on_form()) == []


def test_it_lists_what_it_skipped_with_the_reason(imis_replica):
    interests_discover(using=imis_replica)

    reasons = skipped()
    assert "multi-instance" in reasons[("ud_Committees", "CHAIR")]
    assert "not a checkbox" in reasons[("ud_EmailPrefs", "PREFERRED_DAY")]
    assert "no such column" in reasons[("ud_EmailPrefs", "WEBINARS")]
    assert "not in the database" in reasons[("ud_Retired", "OLD_FLAG")]


def test_it_places_new_fields_after_the_existing_ones(imis_replica):
    interests_discover(using=imis_replica)
    add_ud_field(imis_replica, "UD_Topics", "Mentoring", "Mentoring program", "Be matched with a mentor")

    run = interests_discover(using=imis_replica)

    assert run.counts["added"] == 1 and run.outcome.added == ["UD_Topics.Mentoring"]
    ordered = list(RemoteInterest.objects.values_list("field_name", "position", "visible"))
    assert ordered[-1] == ("Mentoring", 8, False)
    assert [p for _f, p, _v in ordered] == list(range(1, 9))


def test_it_follows_a_new_prompt_but_keeps_what_staff_wrote(imis_replica):
    interests_discover(using=imis_replica)
    RemoteInterest.objects.filter(field_name="EVENTS").update(label="Meetings near you", description="Ours")
    set_prompt(imis_replica, "ud_EmailPrefs", "NEWSLETTER", "Newsletter", "Every month")
    set_prompt(imis_replica, "ud_EmailPrefs", "EVENTS", "Events", "Theirs")

    run = interests_discover(using=imis_replica)

    assert sorted(run.outcome.updated) == ["ud_EmailPrefs.EVENTS", "ud_EmailPrefs.NEWSLETTER"]
    found = interests()
    newsletter, events = found[("ud_EmailPrefs", "NEWSLETTER")], found[("ud_EmailPrefs", "EVENTS")]
    assert (newsletter.prompt, newsletter.label, newsletter.description) == ("Newsletter", "Newsletter", "Every month")
    assert (events.prompt, events.label, events.description) == ("Events", "Meetings near you", "Ours")


def test_it_updates_the_spelling_of_a_field_renamed_in_case_only(imis_replica):
    interests_discover(using=imis_replica)
    before = RemoteInterest.objects.get(field_name="Volunteering")
    RemoteInterest.objects.filter(pk=before.pk).update(visible=True, group="Community")
    rename_ud_field(imis_replica, "UD_Topics", "Volunteering", "VOLUNTEERING")

    run = interests_discover(using=imis_replica)

    assert run.counts["added"] == 0 and run.outcome.updated == ["UD_Topics.VOLUNTEERING"]
    after = RemoteInterest.objects.get(pk=before.pk)
    assert (after.field_name, after.visible, after.group, after.present_in_imis) == (
        "VOLUNTEERING",
        True,
        "Community",
        True,
    )
    assert RemoteInterest.objects.count() == 7


def test_it_treats_a_field_renamed_in_imis_as_one_gone_and_one_new(imis_replica):
    interests_discover(using=imis_replica)
    old = RemoteInterest.objects.get(field_name="Research_Digest")
    RemoteInterest.objects.filter(pk=old.pk).update(visible=True)
    rename_ud_field(imis_replica, "UD_Topics", "Research_Digest", "Research_News")

    run = interests_discover(using=imis_replica)

    assert run.outcome.missing == ["UD_Topics.Research_Digest"] and run.outcome.added == ["UD_Topics.Research_News"]
    old.refresh_from_db()
    new = RemoteInterest.objects.get(field_name="Research_News")
    assert (old.present_in_imis, old.visible) == (False, True)
    assert (new.present_in_imis, new.visible, new.label) == (True, False, "Research digest")


def test_it_takes_a_vanished_field_off_the_form_and_keeps_its_history(imis_replica):
    interests_discover(using=imis_replica)
    events = RemoteInterest.objects.get(field_name="EVENTS")
    events.visible, events.label, events.group = True, "Events near you", "Meetings"
    events.save(update_fields=["visible", "label", "group"])
    member = make_subscriber(imis_id="100001")
    make_preference(subscriber=member, interest=events)
    PreferenceChange.objects.create(subscriber=member, interest=events, old_value=False, new_value=True, source="form")
    drop_ud_field(imis_replica, "ud_EmailPrefs", "EVENTS")

    run = interests_discover(using=imis_replica)

    assert run.outcome.missing == ["ud_EmailPrefs.EVENTS"] and run.counts["missing"] == 1
    events.refresh_from_db()
    assert events.present_in_imis is False and events.visible is True
    assert events not in interests_on_form()
    assert events.preferences.count() == 1 and events.changes.count() == 1

    again = interests_discover(using=imis_replica)
    assert again.counts["missing"] == 0  # marked once, not on every run


def test_it_brings_a_field_back_with_its_settings_intact(imis_replica):
    interests_discover(using=imis_replica)
    RemoteInterest.objects.filter(field_name="CE_Credits").update(
        visible=True, label="CE courses", group="Learning", product_code="CE", position=1
    )
    drop_ud_field(imis_replica, "UD_Topics", "CE_Credits")
    interests_discover(using=imis_replica)
    add_ud_field(imis_replica, "UD_Topics", "CE_Credits", "Continuing education", "Courses that earn CE credits")

    run = interests_discover(using=imis_replica)

    assert run.outcome.returned == ["UD_Topics.CE_Credits"] and run.counts["added"] == 0
    back = RemoteInterest.objects.get(field_name="CE_Credits")
    assert (back.present_in_imis, back.visible, back.label, back.group, back.product_code, back.position) == (
        True,
        True,
        "CE courses",
        "Learning",
        "CE",
        1,
    )
    assert back in interests_on_form()


def test_it_drops_the_fields_of_a_table_switched_to_multi_instance(imis_replica):
    interests_discover(using=imis_replica)
    RemoteInterest.objects.filter(table_name="UD_Topics").update(visible=True)
    set_multi_instance(imis_replica, "UD_Topics")

    run = interests_discover(using=imis_replica)

    assert run.counts["missing"] == 4
    topics = RemoteInterest.objects.filter(table_name="UD_Topics")
    assert topics.count() == 4 and not topics.filter(present_in_imis=True).exists()
    assert list(interests_on_form()) == []
    assert "multi-instance" in skipped()[("UD_Topics", "CE_Credits")]


def test_it_refuses_hostile_identifiers_and_never_executes_them(imis_replica):
    hostile_field = "X; DROP TABLE Name--"
    hostile_table = 'ud_x"; DROP TABLE "Name'
    execute(
        imis_replica,
        f"INSERT INTO {q(imis_replica, 'UD_Table')} ({q(imis_replica, 'TABLE_NAME')}) VALUES (%s)",
        [hostile_table],
    )
    add_ud_field(imis_replica, "ud_EmailPrefs", hostile_field, "Innocent", column=False)
    add_ud_field(imis_replica, hostile_table, "FLAG", "Also innocent", column=False)

    run = interests_discover(using=imis_replica)

    assert run.ok and run.counts["found"] == 7
    assert hostile_field not in {i.field_name for i in RemoteInterest.objects.all()}
    reasons = skipped()
    assert "invalid identifier" in reasons[("ud_EmailPrefs", hostile_field)]
    assert "invalid identifier" in reasons[(hostile_table, "FLAG")]
    assert fetch(imis_replica, f"SELECT COUNT(*) FROM {q(imis_replica, 'Name')}")[0][0] == 40


def test_it_replaces_the_skipped_list_on_each_run(imis_replica):
    interests_discover(using=imis_replica)
    assert ("ud_EmailPrefs", "WEBINARS") in skipped()
    execute(
        imis_replica,
        f"DELETE FROM {q(imis_replica, 'UD_Field')} WHERE {q(imis_replica, 'FIELD_NAME')} = %s",
        ["WEBINARS"],
    )

    interests_discover(using=imis_replica)

    assert ("ud_EmailPrefs", "WEBINARS") not in skipped()
    assert len(skipped()) == 5


def test_it_records_the_error_and_changes_nothing_when_imis_cannot_be_read(imis_pg):
    interests_discover(using=imis_pg)
    execute(imis_pg, f"UPDATE {q(imis_pg, 'UD_Table')} SET {q(imis_pg, 'ALLOW_MULTIPLE_INSTANCES')} = %s", [True])
    execute(imis_pg, f"DROP TABLE {q(imis_pg, 'UD_Field')}")  # e.g. the login lost SELECT on it
    before = list(RemoteInterest.objects.values())
    skipped_before = skipped()

    run = interests_discover(using=imis_pg)

    assert run.ok is False and run.finished_at is not None
    assert run.error.startswith("iMIS could not be read")
    assert run.counts == {}
    assert list(RemoteInterest.objects.values()) == before
    assert skipped() == skipped_before
