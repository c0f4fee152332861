"""The member's language from iMIS (IMIS_LANGUAGE_FIELD): pulled with the roster, carried by the exported links
(`?lang=`) and the CSV's language column, so the page opens in the member's language whatever the browser."""

import csv
import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from preference_center.imis.sandbox import member_id
from preference_center.lib.locale import member_language
from subscribers.models import Subscriber
from sync.services.roster import roster_pull
from tests.conftest import q
from tests.factories import make_interests
from tests.interests_helpers import execute

pytestmark = pytest.mark.django_db(databases=["default", "imis"], transaction=True)

KEPT_AS = {1: "French", 2: "fr-CA", 3: "EN", 4: "Klingon"}  # member 5 onwards: no row, no language


@pytest.fixture
def demographics(imis_pg):
    """A UD table of the association's own, keyed by ID, with a LANGUAGE column as iMIS staff fill it."""
    execute(
        "imis",
        f"CREATE TABLE {q('imis', 'ud_Demographics')} ({q('imis', 'ID')} varchar(10), {q('imis', 'LANGUAGE')} varchar(20))",
    )
    for n, value in KEPT_AS.items():
        execute("imis", f"INSERT INTO {q('imis', 'ud_Demographics')} VALUES (%s, %s)", [member_id(n), value])
    make_interests(count=2)
    return "ud_Demographics.LANGUAGE"


def language_of(n):
    return Subscriber.objects.get(imis_id=member_id(n)).language


def exported_rows():
    out = io.StringIO()
    call_command("export_links", stdout=out)
    return {row["imis_id"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}


@pytest.mark.parametrize(
    ("value", "language"),
    [("fr", "fr"), ("FR-CA", "fr"), ("fr_FR", "fr"), ("French", "fr"), ("Français", "fr"), (" english ", "en"),
     ("EN", "en"), ("Klingon", ""), ("", ""), (None, "")],
)  # fmt: skip
def test_it_reads_a_language_by_code_or_name(value, language):
    assert member_language(value) == language


def test_it_pulls_each_members_language_from_the_field_named_in_the_settings(demographics):
    with override_settings(IMIS_LANGUAGE_FIELD=demographics):
        run = roster_pull()
    assert run.ok, run.error
    assert [language_of(n) for n in (1, 2, 3, 4, 5)] == ["fr", "fr", "en", "", ""]


def test_it_reads_a_column_of_name_too(imis_pg):
    execute("imis", f"ALTER TABLE {q('imis', 'Name')} ADD COLUMN {q('imis', 'PREFERRED_LANGUAGE')} varchar(10)")
    execute(
        "imis",
        f"UPDATE {q('imis', 'Name')} SET {q('imis', 'PREFERRED_LANGUAGE')} = 'FR' WHERE {q('imis', 'ID')} = %s",
        [member_id(2)],
    )
    with override_settings(IMIS_LANGUAGE_FIELD="Name.PREFERRED_LANGUAGE"):
        assert roster_pull().ok
    assert (language_of(1), language_of(2)) == ("", "fr")


def test_without_the_setting_no_language_is_read(demographics):
    assert roster_pull().ok
    assert {language_of(n) for n in (1, 2, 3)} == {""}


def test_a_language_changed_in_imis_reaches_the_next_pull(demographics):
    with override_settings(IMIS_LANGUAGE_FIELD=demographics):
        roster_pull()
        execute("imis", f"UPDATE {q('imis', 'ud_Demographics')} SET {q('imis', 'LANGUAGE')} = 'English' WHERE {q('imis', 'ID')} = %s",
                [member_id(1)])  # fmt: skip
        run = roster_pull()
    assert language_of(1) == "en" and run.counts["members_updated"] == 1


def test_the_export_carries_the_language_in_the_links_and_a_column(demographics, client):
    with override_settings(IMIS_LANGUAGE_FIELD=demographics):
        roster_pull()
    rows = exported_rows()
    french, unknown = rows[member_id(1)], rows[member_id(5)]
    assert french["language"] == "fr"
    assert french["preference_url"].endswith("/?lang=fr") and french["one_click_url"].endswith("/one-click?lang=fr")
    assert unknown["language"] == "" and "lang=" not in unknown["preference_url"] + unknown["one_click_url"]
    # The link opens the page in French for a browser that asks for English.
    path = french["preference_url"].split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="fr"' in page and "Vos préférences" in page


def test_a_misnamed_field_fails_the_pull_with_a_plain_error_and_changes_nothing(demographics):
    assert roster_pull().ok
    before = list(Subscriber.objects.order_by("pk").values_list("imis_id", "language", "active"))
    with override_settings(IMIS_LANGUAGE_FIELD="ud_Demographics"):  # no column
        run = roster_pull()
    assert not run.ok and "IMIS_LANGUAGE_FIELD" in run.error and "TABLE.COLUMN" in run.error
    assert list(Subscriber.objects.order_by("pk").values_list("imis_id", "language", "active")) == before


def test_over_rest_it_reads_the_contact_property_named_for_the_language(over_rest):
    execute("imis", f"ALTER TABLE {q('imis', 'Name')} ADD COLUMN {q('imis', 'PreferredLanguage')} varchar(10)")
    execute(
        "imis",
        f"UPDATE {q('imis', 'Name')} SET {q('imis', 'PreferredLanguage')} = 'Français' WHERE {q('imis', 'ID')} = %s",
        [member_id(3)],
    )
    with override_settings(IMIS_API_CONTACT_PROPERTIES={"language": "PreferredLanguage"}):
        run = roster_pull()
    assert run.ok, run.error
    assert (language_of(2), language_of(3)) == ("", "fr")


def test_over_rest_no_language_is_asked_for_unless_named(over_rest):
    assert roster_pull().ok  # the sandbox's contacts carry no language property: none is needed
    assert {language_of(n) for n in (1, 2, 3)} == {""}
