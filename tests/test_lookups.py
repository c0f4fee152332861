"""`field__any`: `__in` with the list as one PostgreSQL array parameter (preference_center.lib.lookups)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from interests.models import RemoteInterest
from subscribers.models import Preference, Subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def members():
    return [Subscriber.objects.create(imis_id=imis_id) for imis_id in ("0123456789", "42", "7")]


def test_it_finds_what_in_finds(members):
    wanted = ["42", "7", "nobody", None]
    assert set(Subscriber.objects.filter(imis_id__any=wanted)) == set(Subscriber.objects.filter(imis_id__in=wanted))
    assert set(Subscriber.objects.filter(imis_id__any=wanted)) == set(members[1:])


def test_it_sends_the_list_as_one_parameter(members):
    with CaptureQueriesContext(connection) as queries:
        list(Subscriber.objects.filter(pk__any=[m.pk for m in members]))
    assert "= ANY(" in queries[0]["sql"] and len(queries) == 1


def test_it_does_not_cut_a_value_longer_than_the_column(members):
    # A cast to varchar(10) would cut "01234567890" to the first member's ID.
    assert not Subscriber.objects.filter(imis_id__any=["01234567890"]).exists()


def test_it_finds_nothing_in_an_empty_list(members):
    assert not Subscriber.objects.filter(imis_id__any=[]).exists()


def test_it_works_on_foreign_keys_and_expressions(members):
    interest = RemoteInterest.objects.create(table_name="ud_EmailPrefs", field_name="NEWSLETTER")
    Preference.objects.create(subscriber=members[1], interest=interest, value=True)
    found = Preference.objects.filter(subscriber_id__any=[members[1].pk, members[2].pk], interest__any=[interest.pk])
    assert [p.subscriber for p in found] == [members[1]]
