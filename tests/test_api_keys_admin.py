"""Staff create API keys in the admin: the key is shown once, only its hash is kept; keys are revoked,
never deleted."""

import re

import pytest
from django.test import Client

from mailing.models import ApiKey
from mailing.services.api_keys import hash_key
from tests.factories import signed_in, staff_user
from tests.mailing_helpers import URLS

pytestmark = [pytest.mark.django_db, URLS]


def test_it_shows_a_new_key_once_and_stores_only_its_hash():
    admin = staff_user(superuser=True)
    client = signed_in(admin)

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


def test_it_revokes_keys_from_the_list_and_offers_no_delete():
    client = signed_in(staff_user(superuser=True))
    client.post("/admin/mailing/apikey/add/", {"name": "Old mailer", "scope": "read"})
    api_key = ApiKey.objects.get()

    client.post("/admin/mailing/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert client.get(f"/admin/mailing/apikey/{api_key.pk}/delete/").status_code == 403


def test_staff_who_may_only_view_keys_cannot_revoke_them():
    client = signed_in(staff_user("view_apikey"))
    api_key = ApiKey.objects.create(name="Mailer", scope="read", prefix="abcd1234", key_hash="0" * 64)

    assert client.get("/admin/mailing/apikey/").status_code == 200
    client.post("/admin/mailing/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})

    api_key.refresh_from_db()
    assert api_key.revoked_at is None
