"""The REST reads (discovery, roster, values) over the REST sandbox agree with the SQL gateway on the same
replica: same interests, same members, same checkbox values."""

import pytest
from django.test import override_settings

from preference_center import imis
from preference_center.imis.errors import ImisRefused
from preference_center.imis.rest import discovery, reads

pytestmark = pytest.mark.django_db(databases=["default", "imis"], transaction=True)


def flat(chunks):
    return [row for chunk in chunks for row in chunk]


def test_it_discovers_the_same_interests_as_the_sql_gateway(rest_client):
    by_rest = discovery.discover_checkbox_fields(client=rest_client)
    by_sql = imis.discover_checkbox_fields("imis")

    def named(fields):
        return sorted((f.table_name, f.field_name, f.prompt) for f in fields)

    assert named(by_rest.interests) == named(by_sql.interests)
    assert len(by_rest.interests) == 7


def test_it_skips_multi_instance_objects_and_non_boolean_properties_with_a_reason(rest_client):
    skipped = {
        (s.table_name, s.field_name): s.reason for s in discovery.discover_checkbox_fields(client=rest_client).skipped
    }

    assert skipped[("ud_Committees", "CHAIR")] == "multi-instance business object (ObjectTypeName Multi)"
    assert skipped[("ud_EmailPrefs", "PREFERRED_DAY")] == "not a checkbox property (PropertyTypeName String)"
    assert ("ud_EmailPrefs", "ID") not in skipped  # the key is no candidate


def test_it_reports_a_ud_table_without_a_business_object_and_a_field_without_a_property(rest_sandbox, rest_client):
    rest_sandbox.without_objects = {"ud_topics"}  # iMIS never built one for this legacy table
    expected = ["UD_Topics", "ud_EmailPrefs.WEBINARS", "ud_EmailPrefs.NEWSLETTER", "ud_Retired.OLD_FLAG"]

    found = discovery.discover_checkbox_fields(client=rest_client, expected=expected)

    skipped = {(s.table_name, s.field_name): s.reason for s in found.skipped}
    assert skipped[("UD_Topics", "*")] == (
        "no business object for UD table UD_Topics: unreachable over REST until iMIS has one"
    )
    assert skipped[("ud_Retired", "OLD_FLAG")].startswith("no business object for UD table ud_Retired")
    assert skipped[("ud_EmailPrefs", "WEBINARS")] == (
        "field listed in IMIS_API_UD_FIELDS but the business object has no such property"
    )
    assert ("ud_EmailPrefs", "NEWSLETTER") not in skipped
    assert {f.table_name for f in found.interests} == {"ud_EmailPrefs"}


def test_it_refuses_a_hostile_name_in_the_expected_fields(rest_client):
    found = discovery.discover_checkbox_fields(client=rest_client, expected=["ud_EmailPrefs.X; DROP TABLE Name--"])

    assert [(s.field_name, s.reason) for s in found.skipped if s.field_name.startswith("X;")] == [
        ("X; DROP TABLE Name--", "invalid identifier in IMIS_API_UD_FIELDS: refused")
    ]


def test_it_reads_the_same_roster_as_the_sql_gateway(rest_client):
    by_rest = flat(reads.iter_roster(chunk_size=15, client=rest_client))

    assert by_rest == flat(imis.iter_roster("imis"))
    assert len(by_rest) == 40


def test_it_pages_the_roster_at_the_chunk_size(rest_sandbox, rest_client):
    assert [len(chunk) for chunk in reads.iter_roster(chunk_size=15, client=rest_client)] == [15, 15, 10]


def test_it_reads_the_same_checkbox_values_as_the_sql_gateway(rest_client):
    fields = ["NEWSLETTER", "EVENTS", "ADVOCACY_ALERT"]

    by_rest = flat(reads.iter_checkbox_values("ud_EmailPrefs", fields, client=rest_client))

    assert by_rest == flat(imis.iter_checkbox_values("ud_EmailPrefs", fields, using="imis"))
    assert any(any(row.values) for row in by_rest) and any(not all(row.values) for row in by_rest)


def test_it_says_which_contact_properties_a_site_lacks_and_what_it_sent(rest_client):
    with override_settings(IMIS_API_CONTACT_PROPERTIES={"email": "EmailAddress"}):
        with pytest.raises(ImisRefused) as refused:
            next(reads.iter_roster(client=rest_client))

    message = str(refused.value)
    assert message.startswith("CsContact rows have no property email=EmailAddress (IMIS_API_CONTACT_PROPERTIES)")
    assert "this site's rows carry Company, Email, ExcludeMail, FirstName" in message


def test_it_reads_contact_properties_named_in_the_settings(rest_client):
    with override_settings(IMIS_API_CONTACT_PROPERTIES={"full_name": "Company", "is_company": "ExcludeMail"}):
        members = flat(reads.iter_roster(client=rest_client))

    by_sql = {m.imis_id: m for m in flat(imis.iter_roster("imis"))}
    assert [m.is_company for m in members] == [by_sql[m.imis_id].exclude_mail for m in members]


def test_it_refuses_a_setting_naming_no_member_field(rest_client):
    with override_settings(IMIS_API_CONTACT_PROPERTIES={"phone": "Phone"}):
        with pytest.raises(ImisRefused, match="IMIS_API_CONTACT_PROPERTIES names 'phone', which is no member field"):
            next(reads.iter_roster(client=rest_client))


def test_it_names_the_order_setting_when_the_site_refuses_it(rest_client):
    with override_settings(IMIS_API_ORDER_BY="ContactKey"):
        with pytest.raises(ImisRefused) as refused:
            next(reads.iter_checkbox_values("ud_EmailPrefs", ["NEWSLETTER"], client=rest_client))

    message = str(refused.value)
    assert "OrderBy 'ContactKey': no property 'ContactKey' on ud_EmailPrefs" in message  # what the site said
    assert "IMIS_API_ORDER_BY='ContactKey'" in message


def test_it_pages_without_an_order_when_the_setting_is_empty(rest_client):
    with override_settings(IMIS_API_ORDER_BY=""):
        assert len(flat(reads.iter_roster(client=rest_client))) == 40


def test_it_uses_one_client_per_site_from_the_settings(rest_sandbox):
    with override_settings(IMIS_API_URL=rest_sandbox.url, IMIS_API_USER="SANDBOX", IMIS_API_PASSWORD="sandbox"):
        assert reads.shared_client() is reads.shared_client()
        assert len(flat(reads.iter_roster())) == 40
