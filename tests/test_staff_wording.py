"""Staff read labels, not raw keys: the sync dashboard, the runs, the column headers."""

import pytest
from django.urls import reverse
from django.utils import timezone

from subscribers.models import PreferenceChange
from subscribers.services.preferences import preferences_save
from sync.models import SyncRun
from tests.factories import make_interests, make_subscriber

pytestmark = pytest.mark.django_db(databases=["default", "imis"])


@pytest.fixture
def runs():
    now = timezone.now()
    SyncRun.objects.create(kind="pull", started_at=now, finished_at=now, ok=True, counts={"members_created": 40})
    SyncRun.objects.create(
        kind="push", started_at=now, finished_at=now, ok=True, counts={"not_needed": 2, "retry_later": 1}
    )


def test_the_dashboard_shows_labels_not_raw_keys(admin_client, imis_pg, runs):
    html = admin_client.get(reverse("admin:sync_dashboard")).content.decode()
    assert "new members 40" in html
    assert "not needed (iMIS had it already) 2" in html and "to retry later (iMIS unreachable) 1" in html
    assert ">not needed</a>" in html  # the state, linked to its changes
    for key in ("members_created", "not_needed<", "retry_later", ">not_needed"):
        assert key not in html


def test_the_runs_list_shows_labels(admin_client, runs):
    html = admin_client.get(reverse("admin:sync_syncrun_changelist")).content.decode()
    assert "new members 40" in html and "members_created" not in html


def test_column_headers_spell_imis_ip_address_and_uuid(admin_client):
    (newsletter,) = make_interests(count=1)
    member = make_subscriber()
    (change,) = preferences_save(subscriber=member, wanted={newsletter.pk: True}, source="form", ip_address="127.0.0.1")
    interests = admin_client.get(reverse("admin:interests_remoteinterest_changelist")).content.decode()
    members = admin_client.get(reverse("admin:subscribers_subscriber_changelist")).content.decode()
    change_page = admin_client.get(reverse("admin:subscribers_preferencechange_change", args=[change.pk]))
    html = interests + members + change_page.content.decode()
    assert "IMIS" not in html.replace("IMIS_", "")
    assert "Ip address" not in html and "Uuid" not in html
    assert "IP address" in html and "UUID" in html
    assert "127.0.0.0/24 (anonymised)" in html
    assert PreferenceChange.objects.get().ip_address == "127.0.0.0"


def test_the_interests_list_says_when_a_field_is_gone_from_imis(admin_client):
    here, gone = make_interests(count=2)
    gone.present_in_imis = False
    gone.save(update_fields=["present_in_imis"])
    html = admin_client.get(reverse("admin:interests_remoteinterest_changelist")).content.decode()
    assert html.count("gone from iMIS") == 1
    assert html.index(f"{gone.table_name}.<wbr>{gone.field_name}") < html.index("gone from iMIS")
