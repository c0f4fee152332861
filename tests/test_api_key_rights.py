"""An API key never does more than the staff user who made it may do now: reading links needs the export
permission when the key is made and at every use; personal links are a scope of their own, and a key
without it sees no link anywhere in the API."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from mailing.models import ApiKey
from mailing.services.api_keys import KeyExceedsCreator, api_key_create
from tests.factories import make_interests, make_subscriber, signed_in, staff_user
from tests.mailing_helpers import URLS, api_client

pytestmark = [pytest.mark.django_db, URLS]
# What staff who make API keys have, before the rights a key would carry.
KEY_MAKER = ["add_apikey", "view_apikey", "change_apikey", "view_subscriber"]


def raw_key_in(response):
    [raw_key] = re.findall(r'value="(pc_[0-9a-f]{8}_[A-Za-z0-9_-]{32})"', response.content.decode())
    return raw_key


def bearer(raw_key):
    return Client(headers={"Authorization": f"Bearer {raw_key}"})


@pytest.fixture
def group():
    [news] = make_interests(count=1)
    make_subscriber(imis_id="00001", on=[news])
    return news


def test_staff_without_the_export_permission_cannot_make_a_key_that_reads_links(group):
    client = signed_in(staff_user(*KEY_MAKER))

    refused = client.post("/admin/mailing/apikey/add/", {"name": "Mine", "scope": "read", "links": "on"})
    allowed = client.post("/admin/mailing/apikey/add/", {"name": "Mine", "scope": "read"})
    key = bearer(raw_key_in(allowed))

    assert refused.status_code == 200 and "A key cannot do more than you may" in refused.content.decode()
    assert "read personal links" in refused.content.decode()
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().links is False
    export = key.get(f"/api/v1/target-groups/{group.pk}/export/")
    assert export.status_code == 403 and "may not read personal links" in export.json()["detail"]
    [row] = key.get(f"/api/v1/target-groups/{group.pk}/members/").json()["results"]
    assert row["preference_url"] is None and row["one_click_url"] is None


def test_staff_with_the_export_permission_make_keys_that_export(group):
    client = signed_in(staff_user(*KEY_MAKER, "export_targetgroup"))

    key = bearer(raw_key_in(client.post("/admin/mailing/apikey/add/", {"name": "M", "scope": "read", "links": "on"})))
    export = key.get(f"/api/v1/target-groups/{group.pk}/export/")

    assert export.status_code == 200
    assert "/p/" in b"".join(export.streaming_content).decode()


def test_a_key_cannot_write_unless_its_maker_may_change_preferences():
    clerk, editor = staff_user(*KEY_MAKER), staff_user(*KEY_MAKER, "change_preference")

    with pytest.raises(KeyExceedsCreator):
        api_key_create(name="w", scope=ApiKey.Scope.READ_WRITE, created_by=clerk)
    api_key_create(name="w", scope=ApiKey.Scope.READ_WRITE, created_by=editor)
    with pytest.raises(KeyExceedsCreator):
        api_key_create(name="nobody's", created_by=None)


def test_a_key_loses_what_its_maker_loses(group):
    maker = staff_user(*KEY_MAKER, "export_targetgroup", "change_preference")
    client, _, _ = api_client(scope=ApiKey.Scope.READ_WRITE, created_by=maker)
    export_url = f"/api/v1/target-groups/{group.pk}/export/"
    assert client.get(export_url).status_code == 200

    maker.user_permissions.remove(Permission.objects.get(codename="export_targetgroup"))
    demoted_export = client.get(export_url)
    demoted_member = client.get("/api/v1/members/00001/").json()
    maker.is_active = False
    maker.save()
    deactivated = client.get("/api/v1/interests/")

    assert demoted_export.status_code == 403
    assert demoted_member["preference_url"] is None and demoted_member["one_click_url"] is None
    assert deactivated.status_code == 403
    assert "may no longer read members" in deactivated.json()["detail"]


def test_a_key_whose_maker_was_deleted_does_nothing():
    maker = staff_user(*KEY_MAKER)
    client, _, _ = api_client(created_by=maker, links=False)
    assert client.get("/api/v1/interests/").status_code == 200
    maker.delete()

    assert client.get("/api/v1/interests/").status_code == 403


def test_a_read_only_key_without_links_sees_no_link_anywhere(group):
    client, _, _ = api_client(links=False)
    lookup = client.post("/api/v1/members/lookup/", {"email": "m00001@example.org"}, content_type="application/json")
    answers = [
        client.get("/api/v1/members/00001/").json(),
        *lookup.json()["results"],
        *client.get(f"/api/v1/target-groups/{group.pk}/members/").json()["results"],
        *client.get(f"/api/v1/target-groups/combined/members/?any_of={group.pk}").json()["results"],
    ]

    assert len(answers) == 4
    assert all(a["preference_url"] is None and a["one_click_url"] is None for a in answers)
    assert client.get(f"/api/v1/target-groups/combined/export/?any_of={group.pk}").status_code == 403


def test_the_schema_says_links_need_their_own_scope():
    client, _, _ = api_client(links=False)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()

    assert "null unless the API key may read personal links" in schema
    assert "Needs a key that may read personal links" in schema


def test_scope_and_links_are_settled_when_a_key_is_made():
    maker = staff_user(*KEY_MAKER, "export_targetgroup")
    client = signed_in(maker)
    _, api_key, _ = api_client(created_by=maker, links=False)

    client.post(f"/admin/mailing/apikey/{api_key.pk}/change/", {"name": "Renamed", "scope": "read", "links": "on"})

    api_key.refresh_from_db()
    assert (api_key.name, api_key.links) == ("Renamed", False)
