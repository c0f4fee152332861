"""Staff create API keys in the admin: the key is shown once, only its hash is kept; keys are revoked,
never deleted."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from mailing.models import ApiKey
from mailing.services.api_keys import hash_key
from tests.mailing_helpers import URLS

pytestmark = [pytest.mark.django_db, URLS]


@pytest.fixture
def staff_client():
    admin = User.objects.create_superuser("admin", "admin@example.org", "pw")
    client = Client()
    client.force_login(admin)
    return client, admin


def test_it_shows_a_new_key_once_and_stores_only_its_hash(staff_client):
    client, admin = staff_client

    response = client.post("/admin/mailing/apikey/add/", {"name": "Mailer (production)", "scope": "read_write"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    [raw_key] = re.findall(r'value="(pc_[0-9a-f]{8}_[A-Za-z0-9_-]{32})"', response.content.decode())
    api_key = ApiKey.objects.get()
    assert (api_key.name, api_key.scope, api_key.created_by) == ("Mailer (production)", "read_write", admin)
    assert api_key.key_hash == hash_key(raw_key)
    assert Client(headers={"Authorization": f"Bearer {raw_key}"}).get("/api/v1/interests/").status_code == 200

    change_page = client.get(f"/admin/mailing/apikey/{api_key.pk}/change/").content.decode()
    listing = client.get("/admin/mailing/apikey/").content.decode()
    assert raw_key not in change_page and raw_key not in listing
    assert f"pc_{api_key.prefix}_…" in listing


def test_it_revokes_keys_from_the_list_and_offers_no_delete(staff_client):
    client, _ = staff_client
    client.post("/admin/mailing/apikey/add/", {"name": "Old mailer", "scope": "read"})
    api_key = ApiKey.objects.get()

    client.post("/admin/mailing/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert client.get(f"/admin/mailing/apikey/{api_key.pk}/delete/").status_code == 403


def test_staff_who_may_only_view_keys_cannot_revoke_them():
    from django.contrib.auth.models import Permission

    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_apikey"))
    client = Client()
    client.force_login(viewer)
    api_key = ApiKey.objects.create(name="Mailer", scope="read", prefix="abcd1234", key_hash="0" * 64)

    assert client.get("/admin/mailing/apikey/").status_code == 200
    client.post("/admin/mailing/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})

    api_key.refresh_from_db()
    assert api_key.revoked_at is None
