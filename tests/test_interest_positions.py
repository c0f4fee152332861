"""Interests are numbered as the member form reads them (each group where its first interest is), so that
the list staff drag reads as the form: discovery keeps it so, data from before is put so once by a
migration, and showing the list writes nothing."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from interests.models import RemoteInterest
from interests.services import interests_apply_discovery
from preference_center.imis.types import CheckboxField, Discovery
from tests.factories import make_interest, signed_in, staff_user

pytestmark = pytest.mark.django_db


def order():
    return "".join(RemoteInterest.objects.order_by("position").values_list("field_name", flat=True))


@pytest.fixture
def out_of_form_order():
    """Positions as they could be saved before: News (A, C) and Advocacy (B) interleaved."""
    for position, (name, group) in enumerate([("A", "News"), ("B", "Advocacy"), ("C", "News")], 1):
        make_interest(field_name=name, position=position, group=group)


def test_discovery_puts_a_new_interest_with_its_group_as_the_form_shows_it():
    make_interest(field_name="A", position=1)  # no group
    make_interest(field_name="B", position=2, group="News")
    found = [CheckboxField("ud_EmailPrefs", name, prompt=name) for name in ("A", "B", "C")]

    outcome = interests_apply_discovery(discovery=Discovery(interests=found))

    assert outcome.added == ["ud_EmailPrefs.C"]
    # C has no group yet: the form shows it under A's heading, and so does the list.
    assert order() == "ACB"
    assert list(RemoteInterest.objects.order_by("position").values_list("position", flat=True)) == [1, 2, 3]


def test_showing_the_interests_list_writes_nothing(out_of_form_order):
    client = signed_in(staff_user("view_remoteinterest", "change_remoteinterest"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/interests/remoteinterest/").status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert [w for w in writes if "interests_" in w] == []
    assert order() == "ABC"


def test_the_migration_puts_positions_saved_before_in_the_forms_order(out_of_form_order):
    executor = MigrationExecutor(connection)
    executor.migrate([("interests", "0005_labels_in_french")])
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([("interests", "0006_positions_in_form_order")])
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert order() == "ACB"
    assert list(RemoteInterest.objects.order_by("position").values_list("position", flat=True)) == [1, 2, 3]
