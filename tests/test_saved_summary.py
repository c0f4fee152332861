"""The saved page's ?c= is a signed summary of what a save changed: it changes nothing itself, shows
nothing for another member, and expires after a day."""

import time
from unittest import mock

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client

from subscribers.models import Preference, PreferenceChange
from subscribers.views import SAVED_SALT
from tests.members_helpers import form_url, make_interests, make_subscriber, values_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


@pytest.fixture
def jane():
    member = make_subscriber(first_name="Jane")
    [news] = make_interests(1)
    Preference.objects.create(subscriber=member, interest=news, value=True, imis_value=True)
    return member, news


def summary(member, news, *, age=0):
    with mock.patch("time.time", return_value=time.time() - age):
        return signing.dumps([member.pk, [[news.pk, 0]]], salt=SAVED_SALT)


def test_the_summary_changes_nothing(jane):
    member, news = jane
    url = f"{form_url(member)}saved/?c={summary(member, news)}"

    statuses = [getattr(Client(), method)(url).status_code for method in ("post", "put", "delete")]

    assert statuses == [405, 405, 405]
    assert values_of(member) == {news.pk: True} and not PreferenceChange.objects.exists()


def test_a_summary_shows_only_for_its_member_and_only_for_a_day(jane):
    member, news = jane
    other = make_subscriber()

    fresh = Client().get(f"{form_url(member)}saved/?c={summary(member, news)}").content.decode()
    stale = Client().get(f"{form_url(member)}saved/?c={summary(member, news, age=86400 + 60)}").content.decode()
    foreign = Client().get(f"{form_url(other)}saved/?c={summary(member, news)}").content.decode()

    assert "You will no longer receive" in fresh
    assert "You will no longer receive" not in stale
    assert "You will no longer receive" not in foreign
