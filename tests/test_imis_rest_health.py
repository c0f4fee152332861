"""`imis_health` over REST: what the site, the login and the service user's rights are, from iMIS's own
answers (the `_validate` dry run for the rights), with nothing written."""

import pytest
from django.core.management import CommandError, call_command

from interests.models import RemoteInterest
from preference_center import imis
from tests.imis_helpers import activities

pytestmark = pytest.mark.django_db(databases=["default", "imis"], transaction=True)


def test_it_finds_the_service_user_may_write_the_sources_and_activity(over_rest):
    health = imis.health_check(ud_tables=["ud_EmailPrefs", "UD_Topics"])

    assert health.ok, health.summary
    assert health.summary == "ok (may write UD_Topics, ud_EmailPrefs, Activity: the dry run accepted our rows)"
    validated = [p for m, p in over_rest.requests if p.endswith("/_validate")]
    assert validated == ["/api/UD_Topics/_validate", "/api/ud_EmailPrefs/_validate", "/api/Activity/_validate"]
    assert activities() == []  # a dry run writes nothing


def test_it_says_a_read_only_user_cannot_write(over_rest):
    over_rest.read_only = True

    health = imis.health_check(ud_tables=["ud_EmailPrefs"])

    assert health.reachable and not health.ok
    assert [p.split(":")[0] for p in health.problems] == ["cannot write ud_EmailPrefs", "cannot write Activity"]
    assert "SecurityFault" in health.problems[0]


def test_the_command_prints_it_and_fails(over_rest, capsys):
    RemoteInterest.objects.create(table_name="ud_EmailPrefs", field_name="NEWSLETTER", visible=True)
    over_rest.read_only = True

    with pytest.raises(CommandError, match="not ready"):
        call_command("imis_health")

    assert "iMIS (imis-rest): cannot write ud_EmailPrefs: iMIS answered 403" in capsys.readouterr().out


def test_it_says_when_a_site_has_no_dry_run_to_ask(over_rest):
    over_rest.fail_next(404, path="/api/ud_EmailPrefs/_validate")
    over_rest.fail_next(405, path="/api/Activity/_validate")

    health = imis.health_check(ud_tables=["ud_EmailPrefs"])

    assert health.ok
    assert health.notes == [
        "write rights on ud_EmailPrefs not checked: this site has no _validate (404)",
        "write rights on Activity not checked: this site has no _validate (405)",
    ]


def test_it_says_when_iMIS_would_refuse_our_activity_rows(over_rest):
    over_rest.fail_next(400, path="/api/Activity/_validate")

    health = imis.health_check()

    assert health.problems == ["iMIS would refuse our Activity rows: Sandbox fault 400"]


def test_it_says_when_the_site_ignores_the_activity_filter(over_rest, monkeypatch):
    from preference_center.imis.rest import health as rest_health

    monkeypatch.setattr(rest_health, "activity_filter", lambda imis_id, change_id: {"limit": 1})

    health = imis.health_check()

    assert health.problems == [
        "iMIS ignores the PartyId / SOURCE_CODE filter on Activity: a change tried again cannot be told written or not"
    ]
