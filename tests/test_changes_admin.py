"""The changes list in the admin: filters, search, read-only history, the retry action."""

import pytest
from django.urls import reverse

from subscribers.admin.history import outbox_text
from subscribers.models import PreferenceChange
from tests.factories import make_interest, sandbox_subscriber, staff_user
from tests.imis_helpers import activities

pytestmark = pytest.mark.django_db(databases=["default", "imis"])

NO_EMAILPREFS_ROW = 16
CHANGELIST = reverse("admin:subscribers_preferencechange_changelist")


@pytest.fixture
def interest(imis_pg):
    return make_interest()


def change(i, interest, **kwargs):
    return PreferenceChange.objects.create(
        subscriber=sandbox_subscriber(i), interest=interest, new_value=True, **{"source": "form", **kwargs}
    )


def shown(response):
    return {c.subscriber.imis_id for c in response.context["cl"].result_list}


def test_it_filters_changes_by_state_and_finds_them_by_imis_id_or_email(admin_client, interest):
    change(1, interest, state="failed", last_error="iMIS has no ud_EmailPrefs row")
    change(2, interest, state="done")
    change(3, interest, source="admin")

    assert shown(admin_client.get(CHANGELIST, {"state__exact": "failed"})) == {sandbox_subscriber(1).imis_id}
    assert shown(admin_client.get(CHANGELIST, {"source__exact": "admin"})) == {sandbox_subscriber(3).imis_id}
    assert shown(admin_client.get(CHANGELIST, {"q": sandbox_subscriber(2).imis_id})) == {sandbox_subscriber(2).imis_id}
    assert shown(admin_client.get(CHANGELIST, {"q": "member3@example.org"})) == {sandbox_subscriber(3).imis_id}
    assert shown(admin_client.get(CHANGELIST, {"interest__id__exact": interest.id})) == {
        sandbox_subscriber(i).imis_id for i in (1, 2, 3)
    }


def test_it_keeps_history_read_only(admin_client, interest):
    done = change(1, interest, state="done")
    url = reverse("admin:subscribers_preferencechange_change", args=[done.id])

    page = admin_client.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client.post(url, {"state": "pending"}).status_code == 403
    assert admin_client.post(reverse("admin:subscribers_preferencechange_delete", args=[done.id])).status_code == 403
    assert admin_client.get(reverse("admin:subscribers_preferencechange_add")).status_code == 403
    done.refresh_from_db()
    assert done.state == "done"


def test_it_retries_failed_changes_and_pushes_them_at_once(admin_client, interest, django_capture_on_commit_callbacks):
    failed = change(2, interest, state="failed", last_error="iMIS has no ud_EmailPrefs row for member ...")
    done = change(3, interest, state="done")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": "retry", "_selected_action": [failed.id, done.id]}, follow=True
        )

    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "1 failed changes are pending again and being pushed.",
        "1 selected changes had not failed: left alone.",
    ]
    failed.refresh_from_db()
    assert failed.state == "done"  # pushed (eagerly here): iMIS had the row after all
    assert [r[5] for r in activities()] == [str(failed.uuid)]


def test_it_offers_the_retry_only_to_staff_who_may_change_the_sync(client, interest):
    client.force_login(staff_user("view_preferencechange"))
    failed = change(NO_EMAILPREFS_ROW, interest, state="failed")

    page = client.get(CHANGELIST)
    assert page.status_code == 200 and page.context["action_form"] is None  # no retry offered
    client.post(CHANGELIST, {"action": "retry", "_selected_action": [failed.id]})
    failed.refresh_from_db()
    assert failed.state == "failed"


def test_the_in_imis_column_says_where_each_change_is():
    done = PreferenceChange(state="done", activity_seqn=123, attempts=1)
    failed = PreferenceChange(state="failed", attempts=5)
    assert outbox_text(done) == "done (SEQN 123)"
    assert outbox_text(failed) == "failed after 5 attempts"
    assert outbox_text(PreferenceChange(state="pending")) == "pending"
