"""Helpers for the mailing tests: API keys, an API client, members with preferences in bulk."""

import itertools

import pytest
from django.contrib.auth.models import User
from django.test import Client

from mailing.models import ApiKey
from mailing.services.api_keys import api_key_create
from subscribers.models import Preference, Subscriber

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


def member(imis_id, *, on=(), off=(), **fields):
    """A subscriber with Preference rows: `on` interests ticked, `off` unticked."""
    defaults = {"email": f"m{imis_id}@example.org", "first_name": "Ann", "last_name": f"Lee{imis_id}"}
    subscriber = Subscriber.objects.create(imis_id=imis_id, **{**defaults, **fields})
    Preference.objects.bulk_create(
        [Preference(subscriber=subscriber, interest=i, value=True) for i in on]
        + [Preference(subscriber=subscriber, interest=i, value=False) for i in off]
    )
    return subscriber


def many_members(count, *, interest, start=0, batch_size=5000):
    """`count` mailable members with `interest` on, inserted with bulk_create (fast enough for 100,000)."""
    for first in range(start, start + count, batch_size):
        last = min(first + batch_size, start + count)
        subscribers = Subscriber.objects.bulk_create(
            [
                Subscriber(imis_id=f"{n:08d}", email=f"member{n}@example.org", first_name="Ann", last_name=f"Lee{n}")
                for n in range(first, last)
            ],
            batch_size=batch_size,
        )
        Preference.objects.bulk_create(
            [Preference(subscriber=s, interest=interest, value=True) for s in subscribers], batch_size=batch_size
        )
