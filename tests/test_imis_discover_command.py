"""manage.py imis_discover: says what was added, updated, marked missing and skipped."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from interests.models import RemoteInterest
from sync.models import SyncRun
from tests.interests_helpers import add_ud_field, drop_ud_field, set_prompt, unreachable_imis

pytestmark = pytest.mark.django_db(databases=["default", "imis"])


def discover(*args):
    out = StringIO()
    call_command("imis_discover", *args, stdout=out)
    return out.getvalue()


def test_it_prints_what_was_added_and_skipped(imis_pg):
    output = discover()

    assert "Added (hidden until staff show them):\n  ud_EmailPrefs.NEWSLETTER\n" in output
    assert "  UD_Topics.Volunteering\n" in output
    assert "  ud_Committees.CHAIR: multi-instance table" in output
    assert "7 checkbox fields found: 7 added" in output
    assert RemoteInterest.objects.count() == 7


def test_it_prints_what_was_updated_and_marked_missing(imis_pg):
    discover()
    set_prompt(imis_pg, "ud_EmailPrefs", "NEWSLETTER", "Newsletter")
    drop_ud_field(imis_pg, "UD_Topics", "Research_Digest")

    output = discover()

    assert "Added" not in output
    assert "Updated from iMIS:\n  ud_EmailPrefs.NEWSLETTER\n" in output
    assert "No longer in iMIS (taken off the form, history kept):\n  UD_Topics.Research_Digest\n" in output


def test_it_shows_hostile_names_inert(imis_pg):
    add_ud_field(imis_pg, "ud_EmailPrefs", "BAD\x1b[2J", column=False)

    output = discover()

    assert "ud_EmailPrefs.BAD?[2J: invalid identifier" in output
    assert "\x1b" not in output


def test_it_fails_clearly_when_imis_is_down(imis_pg, django_db_blocker):
    with unreachable_imis() as alias, django_db_blocker.unblock():
        with pytest.raises(CommandError, match="iMIS could not be read.*Nothing was changed"):
            discover("--database", alias)
    assert RemoteInterest.objects.count() == 0
    assert SyncRun.objects.get().ok is False
