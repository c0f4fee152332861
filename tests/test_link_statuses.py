"""LINK_STATUSES: which iMIS Name.STATUS codes get personal links, applied by the one "may get links" rule."""

import csv
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from mailing.selectors import export_rows, target_group_build, target_groups_with_sizes
from subscribers.models import Subscriber
from subscribers.selectors import mailable_subscribers, subscribers_for_address
from subscribers.services.links import links_mail
from tests.factories import make_interests, make_subscriber
from tests.mailing_helpers import URLS, api_client

pytestmark = [pytest.mark.django_db, URLS]

ACTIVE_ONLY = override_settings(LINK_STATUSES=["A"])


@pytest.fixture
def news():
    return make_interests(count=1)[0]


@pytest.fixture
def members(news):
    """An active-status member and a lapsed one ('I'), both otherwise mailable, sharing an address."""
    return {
        "A": make_subscriber(imis_id="00001", on=[news], status="A", email="family@example.org"),
        "I": make_subscriber(imis_id="00002", on=[news], status="I", email="family@example.org"),
    }


def exported_ids():
    out = io.StringIO()
    call_command("export_links", stdout=out, stderr=io.StringIO())
    return [row["imis_id"] for row in csv.DictReader(io.StringIO(out.getvalue()))]


def test_every_status_gets_links_by_default(members, news):
    assert exported_ids() == ["00001", "00002"]
    assert all(m.mailable for m in members.values())
    assert [row[0] for row in export_rows(group=target_group_build(any_of=[news.pk]))] == ["00001", "00002"]


@ACTIVE_ONLY
def test_a_status_not_listed_gets_no_links_in_exports_groups_or_the_lost_link_mail(members, news):
    lapsed = members["I"]

    assert exported_ids() == ["00001"]
    assert [row[0] for row in export_rows(group=target_group_build(any_of=[news.pk]))] == ["00001"]
    assert target_groups_with_sizes().get(pk=news.pk).size == 1
    assert list(mailable_subscribers()) == [members["A"]]
    assert not lapsed.mailable and members["A"].mailable  # the property agrees with the query
    assert list(subscribers_for_address("family@example.org")) == [members["A"]]
    assert links_mail(subscriber_ids=[lapsed.pk]) == 0 and mail.outbox == []


@ACTIVE_ONLY
def test_the_api_returns_null_links_for_members_who_get_none(members, news):
    make_subscriber(imis_id="00003", status="A", email="")
    make_subscriber(imis_id="00004", status="A", exclude_mail=True)
    client, _, _ = api_client()

    def links(imis_id):
        body = client.get(f"/api/v1/members/{imis_id}/").json()
        return body["mailable"], body["preference_url"], body["one_click_url"]

    mailable, form_url, one_click = links("00001")
    assert mailable and form_url.startswith("https://prefs.example.org/p/") and one_click.endswith("/one-click")
    for imis_id in ("00002", "00003", "00004"):  # lapsed status, no address, excluded from mail
        assert links(imis_id) == (False, None, None)
    found = client.post("/api/v1/members/lookup/", {"email": "family@example.org"}, content_type="application/json")
    by_id = {m["imis_id"]: m for m in found.json()["results"]}
    assert by_id["00002"]["preference_url"] is None and by_id["00001"]["preference_url"]
    group = client.get(f"/api/v1/target-groups/{news.pk}/members/").json()
    assert [m["imis_id"] for m in group["results"]] == ["00001"]
    export = client.get(f"/api/v1/target-groups/{news.pk}/export/")
    assert "00002" not in b"".join(export.streaming_content).decode()


def test_the_member_admin_shows_and_filters_the_status(admin_client, members):
    changelist = reverse("admin:subscribers_subscriber_changelist")

    page = admin_client.get(changelist)
    assert "column-status" in page.content.decode()
    lapsed_only = admin_client.get(changelist, {"status": "I"})
    assert [s.imis_id for s in lapsed_only.context["cl"].result_list] == ["00002"]
    with ACTIVE_ONLY:
        not_mailable = admin_client.get(changelist, {"mailable": "no"})
    assert [s.imis_id for s in not_mailable.context["cl"].result_list] == ["00002"]


def test_the_setting_is_read_from_the_environment_in_capitals(monkeypatch):
    import importlib

    import preference_center.settings as project_settings

    monkeypatch.setenv("LINK_STATUSES", " a, S ,,A")
    try:
        assert importlib.reload(project_settings).LINK_STATUSES == ["A", "S"]
    finally:
        monkeypatch.delenv("LINK_STATUSES")
        importlib.reload(project_settings)
    assert Subscriber(status="S", email="x@example.org").mailable  # default settings: every status
