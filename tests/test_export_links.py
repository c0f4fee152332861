"""Personal links as CSV for the mailing system: `manage.py export_links` and the admin action."""

import csv
import io

import pytest
from django.core.management import call_command

from subscribers.models import Subscriber
from tests.factories import make_subscriber, signed_in, staff_user
from tests.members_helpers import member_of, token_of

pytestmark = pytest.mark.django_db


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_it_exports_mailable_members_only_with_working_links(tmp_path):
    jane = make_subscriber(imis_id="000123", email="jane@example.org", first_name="Jane", last_name="Doe")
    make_subscriber(email="")
    make_subscriber(exclude_mail=True)
    make_subscriber(active=False)
    out = io.StringIO()
    call_command("export_links", stdout=out)
    (row,) = rows(out.getvalue())
    assert row["imis_id"] == "000123" and row["email"] == "jane@example.org"
    assert (row["first_name"], row["last_name"]) == ("Jane", "Doe")
    assert member_of(token_of(row["preference_url"])) == jane
    assert row["one_click_url"].endswith("/one-click")
    assert member_of(token_of(row["one_click_url"])) == jane

    target = tmp_path / "links.csv"
    call_command("export_links", output=str(target), stderr=io.StringIO())
    assert [r["imis_id"] for r in rows(target.read_text())] == ["000123"]


def test_it_keeps_spreadsheet_formulas_inert():
    make_subscriber(first_name="=HYPERLINK(1)", last_name="@SUM(A1)")
    (row,) = rows(_export())
    assert row["first_name"] == "'=HYPERLINK(1)" and row["last_name"] == "'@SUM(A1)"


def _export():
    out = io.StringIO()
    call_command("export_links", stdout=out)
    return out.getvalue()


def test_it_exports_from_the_admin_and_rotates_links(admin_client):
    jane = make_subscriber(email="jane@example.org")
    make_subscriber(email="")
    response = admin_client.post(
        "/admin/subscribers/subscriber/",
        {"action": "export_links", "_selected_action": [s.pk for s in Subscriber.objects.all()]},
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    (row,) = rows(b"".join(response.streaming_content).decode())
    old_token = token_of(row["preference_url"])
    assert member_of(old_token) == jane

    response = admin_client.post(
        "/admin/subscribers/subscriber/", {"action": "rotate_links", "_selected_action": [jane.pk]}
    )
    assert response.status_code == 302
    assert member_of(old_token) is None
    jane.refresh_from_db()
    assert jane.token_version == 2


def test_the_admin_export_needs_the_export_permission_not_just_view():
    jane = make_subscriber(email="jane@example.org")
    action = {"action": "export_links", "_selected_action": [jane.pk]}
    viewer = signed_in(staff_user("view_subscriber"))
    exporter = signed_in(staff_user("view_subscriber", "export_targetgroup"))

    refused = viewer.post("/admin/subscribers/subscriber/", action)
    allowed = exporter.post("/admin/subscribers/subscriber/", action)

    assert not refused.get("Content-Type", "").startswith("text/csv")
    assert "export_links" not in viewer.get("/admin/subscribers/subscriber/").content.decode()
    assert allowed.status_code == 200 and allowed["Content-Type"].startswith("text/csv")
    assert "no-store" in allowed["Cache-Control"]
