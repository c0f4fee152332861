"""Helpers for the mailing tests: API keys, an API client, staff with permissions (rows come from
tests/factories.py)."""

import itertools

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from mailing.models import ApiKey
from mailing.services.api_keys import api_key_create

# Every mailing test module: the project's URLs plus stand-ins for member pages not merged yet.
URLS = pytest.mark.urls("tests.mailing_urls")
_users = itertools.count(1)


def api_client(scope=ApiKey.Scope.READ, name="Mailing system", *, links=True, created_by=None):
    """A test client that sends a fresh key of `scope` (that may read personal links unless `links` is
    False), made by `created_by` (default: a new superuser); returns (client, key row, raw key)."""
    if created_by is None:
        created_by = User.objects.create_superuser(f"keymaker{next(_users)}", password="pw")
    api_key, raw_key = api_key_create(name=name, scope=scope, links=links, created_by=created_by)
    return Client(headers={"Authorization": f"Bearer {raw_key}"}), api_key, raw_key


def staff(*permissions):
    """A signed-in staff member with these permissions (codenames): (their client, the user)."""
    user = User.objects.create_user(f"staff{next(_users)}", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    client = Client()
    client.force_login(user)
    return client, user
