"""Helpers for the mailing tests: API keys, an API client (rows and staff users come from tests/factories.py)."""

import pytest
from django.test import Client

from mailing.models import ApiKey
from mailing.services.api_keys import api_key_create
from tests.factories import staff_user

# Every mailing test module: the project's URLs plus stand-ins for member pages not merged yet.
URLS = pytest.mark.urls("tests.mailing_urls")


def api_client(scope=ApiKey.Scope.READ, name="Mailing system", *, links=True, created_by=None):
    """A test client that sends a fresh key of `scope` (that may read personal links unless `links` is
    False), made by `created_by` (default: a new superuser); returns (client, key row, raw key)."""
    if created_by is None:
        created_by = staff_user(superuser=True)
    api_key, raw_key = api_key_create(name=name, scope=scope, links=links, created_by=created_by)
    return Client(headers={"Authorization": f"Bearer {raw_key}"}), api_key, raw_key
