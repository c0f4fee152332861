"""preferences_save: the one place a member's choices are written (form, one-click, admin, API)."""

import pytest
from django.db.models import F
from django.test import override_settings

from subscribers.models import Preference, PreferenceChange, Subscriber
from subscribers.selectors import form_specs
from subscribers.services.preferences import (
    NotAMember,
    NotOnForm,
    ip_for_history,
    preferences_save,
    preferences_unsubscribe_all,
)
from subscribers.signals import preferences_changed
from tests.embedded_helpers import facts_on
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import values_of

pytestmark = pytest.mark.django_db


def test_it_writes_preferences_and_one_pending_change_per_change(django_capture_on_commit_callbacks, pushes_recorded):
    newsletter, events, advocacy = make_interests(count=3)
    subscriber = make_subscriber()
    Preference.objects.create(subscriber=subscriber, interest=events, value=True, imis_value=True)

    with django_capture_on_commit_callbacks() as callbacks:
        changes = preferences_save(
            subscriber=subscriber,
            wanted={newsletter.pk: True, events.pk: False, advocacy.pk: False},
            source="form",
            user_agent="Mozilla/5.0 " + "x" * 400,
            ip_address="203.0.113.77",
        )

    assert values_of(subscriber) == {newsletter.pk: True, events.pk: False}
    assert Preference.objects.get(subscriber=subscriber, interest=events).imis_value is True  # iMIS untouched
    rows = {c.interest_id: c for c in PreferenceChange.objects.filter(subscriber=subscriber)}
    assert set(rows) == {newsletter.pk, events.pk} == {c.interest_id for c in changes}
    assert (rows[newsletter.pk].old_value, rows[newsletter.pk].new_value) == (False, True)
    assert (rows[events.pk].old_value, rows[events.pk].new_value) == (True, False)
    change = rows[newsletter.pk]
    assert change.state == "pending" and change.source == "form"
    assert change.label_shown == "Monthly newsletter: News from the association, once a month"
    assert len(change.user_agent) == 255
    assert change.ip_address == "203.0.113.0"  # anonymised by default
    # After commit, once: the signal, whose listeners (the sync's push, the webhook) hear of the changes.
    assert len(callbacks) == 1
    heard = []
    preferences_changed.connect(lambda sender, changes, **kw: heard.append(changes), weak=False, dispatch_uid="t")
    try:
        callbacks[-1]()
    finally:
        preferences_changed.disconnect(dispatch_uid="t")
    assert heard == [changes] and pushes_recorded == [True]


def test_it_writes_nothing_when_nothing_changed(django_capture_on_commit_callbacks, django_assert_num_queries):
    newsletter, events = make_interests(count=2)
    subscriber = make_subscriber()
    specs = form_specs()
    with django_capture_on_commit_callbacks() as callbacks, django_assert_num_queries(1):  # the one statement
        changes = preferences_save(
            subscriber=subscriber, wanted={newsletter.pk: False, events.pk: False}, source="form", specs=specs
        )
    assert changes == [] and callbacks == []
    assert not PreferenceChange.objects.exists() and not Preference.objects.exists()  # "off" needs no row


def test_it_refuses_a_rotated_link_or_a_member_who_left_and_writes_nothing():
    (newsletter,) = make_interests(count=1)
    subscriber = make_subscriber()
    with pytest.raises(NotAMember):
        preferences_save(subscriber=subscriber, wanted={newsletter.pk: True}, source="form", token_version=2)
    Subscriber.objects.filter(pk=subscriber.pk).update(active=False)
    with pytest.raises(NotAMember):
        preferences_save(subscriber=subscriber, wanted={newsletter.pk: True}, source="api")
    assert not Preference.objects.exists() and not PreferenceChange.objects.exists()


def test_it_refuses_an_interest_that_is_not_on_the_form():
    (newsletter,) = make_interests(count=1)
    (hidden,) = make_interests(count=1, visible=False, start=1)
    subscriber = make_subscriber()
    with pytest.raises(NotOnForm):
        preferences_save(subscriber=subscriber, wanted={newsletter.pk: True, hidden.pk: True}, source="form")
    assert not Preference.objects.exists() and not PreferenceChange.objects.exists()


def test_it_turns_every_interest_off_for_one_click():
    interests = make_interests(count=4)
    subscriber = make_subscriber()
    for interest in interests[:3]:
        Preference.objects.create(subscriber=subscriber, interest=interest, value=True, imis_value=True)
    changes = preferences_unsubscribe_all(subscriber=subscriber, ip_address="2001:db8:1234:5678::1")
    assert len(changes) == 3
    assert set(values_of(subscriber).values()) == {False}
    assert {c.source for c in changes} == {"one_click"}
    assert PreferenceChange.objects.first().ip_address == "2001:db8:1234::"


@pytest.mark.parametrize(
    ("policy", "ip", "kept"),
    [
        ("none", "203.0.113.77", None),
        ("anonymised", "203.0.113.77", "203.0.113.0"),
        ("full", "203.0.113.77", "203.0.113.77"),
        ("full", "not an address", None),
        ("anonymised", None, None),
    ],
)
def test_it_keeps_the_ip_address_as_the_policy_says(policy, ip, kept):
    with override_settings(PREFERENCES_IP_POLICY=policy):
        assert ip_for_history(ip) == kept


def test_it_refuses_an_unknown_ip_policy():
    with override_settings(PREFERENCES_IP_POLICY="sometimes"), pytest.raises(ValueError):
        ip_for_history("203.0.113.77")


def test_it_diffs_against_the_committed_values_not_a_stale_form():
    """Two tabs (or the form and the API) send the same choices: the second changes nothing."""
    newsletter, events = make_interests(count=2)
    subscriber = make_subscriber()
    Preference.objects.create(subscriber=subscriber, interest=events, value=True, imis_value=True)
    preferences_save(subscriber=subscriber, wanted={newsletter.pk: True, events.pk: False}, source="form")

    # The other tab asks for the same: nothing changes any more, no second change, no false history.
    again = preferences_save(subscriber=subscriber, wanted={newsletter.pk: True, events.pk: False}, source="api")
    assert again == []
    assert PreferenceChange.objects.count() == 2

    # A value the pull changed since the form was shown: only what really changes is written.
    Preference.objects.filter(subscriber=subscriber, interest=newsletter).update(value=False)  # from iMIS
    changes = preferences_save(subscriber=subscriber, wanted={newsletter.pk: False, events.pk: True}, source="form")
    assert [(c.interest_id, c.old_value, c.new_value) for c in changes] == [(events.pk, False, True)]
    assert PreferenceChange.objects.filter(old_value=F("new_value")).count() == 0


def save_facts():
    """A member's save, the same choices sent again, and two refused saves: what each wrote, by field name
    (run on PostgreSQL and on SQLite, whose writes take other paths)."""
    newsletter, events, advocacy = make_interests(count=3)
    (hidden,) = make_interests(count=1, visible=False, start=3)
    subscriber = make_subscriber()
    Preference.objects.create(subscriber=subscriber, interest=events, value=True, imis_value=True)
    wanted = {newsletter.pk: True, events.pk: False, advocacy.pk: False}
    saved = preferences_save(subscriber=subscriber, wanted=wanted, source="form", ip_address="203.0.113.77")
    again = preferences_save(subscriber=subscriber, wanted=wanted, source="api")
    refused = []
    for refusal, kwargs in ((NotOnForm, {"wanted": {hidden.pk: True}}), (NotAMember, {"token_version": 2})):
        with pytest.raises(refusal):
            preferences_save(subscriber=subscriber, source="form", **{"wanted": {advocacy.pk: True}, **kwargs})
        refused.append(refusal.__name__)
    name = {i.pk: i.field_name for i in (newsletter, events, advocacy, hidden)}
    rows = Preference.objects.filter(subscriber=subscriber).values_list("interest_id", "value", "imis_value")
    history = PreferenceChange.objects.filter(subscriber=subscriber)
    return {
        "rows": sorted([name[i], value, imis_value] for i, value, imis_value in rows),
        "saved": [name[c.interest_id] for c in saved],
        "history": sorted(
            [name[c.interest_id], c.old_value, c.new_value, c.source, c.state, c.ip_address, c.label_shown]
            for c in history
        ),
        "saved again": len(again),
        "refused": refused,
    }


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_it_saves_alike_on_postgresql_and_on_sqlite(database, embedded_default):
    facts = facts_on(database, save_facts, embedded_default)

    assert facts["rows"] == [["EVENTS", False, True], ["NEWSLETTER", True, False]]
    assert facts["saved"] == ["NEWSLETTER", "EVENTS"]  # in interest order
    assert facts["history"] == [
        ["EVENTS", True, False, "form", "pending", "203.0.113.0", "Events and conferences: Invitations to meetings "
         "and the annual conference"],
        ["NEWSLETTER", False, True, "form", "pending", "203.0.113.0", "Monthly newsletter: News from the "
         "association, once a month"],
    ]  # fmt: skip
    assert facts["saved again"] == 0
    assert facts["refused"] == ["NotOnForm", "NotAMember"]
