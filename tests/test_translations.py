"""The French catalogue is complete: every string of the member pages translated, none fuzzy, and none that
makemessages finds missing from it (a string added to a template without its translation fails here)."""

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
# What makemessages reads: the project's code and templates, not the tests, the benches or generated files.
NOT_SCANNED = ["tests", "bench", "docs", "var", "staticfiles"]
MAKEMESSAGES = ["makemessages", "-l", "fr", "--no-location", *(f"--ignore={d}" for d in NOT_SCANNED)]


def test_it_translates_every_message_of_the_french_catalogue():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr
    assert "translated messages." in result.stderr


def test_it_has_every_string_makemessages_finds(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(
        settings.BASE_DIR, copy, ignore=shutil.ignore_patterns(".*", "var", "staticfiles", "__pycache__", "*.mo")
    )
    fresh = copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    fresh.unlink()
    subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES, "--settings=tests.settings"],
        cwd=copy,
        capture_output=True,
        check=True,
    )
    # msgcmp DEF REF: every msgid of REF is in DEF. Both ways: nothing missing, nothing stale.
    missing = subprocess.run(["msgcmp", str(CATALOGUE), str(fresh)], capture_output=True, text=True)
    assert missing.returncode == 0, f"strings missing from {CATALOGUE.name}:\n{missing.stderr}"
    stale = subprocess.run(["msgcmp", "--use-untranslated", str(fresh), str(CATALOGUE)], capture_output=True, text=True)
    assert stale.returncode == 0, f"strings no page uses any more:\n{stale.stderr}"


def test_french_punctuation_stays_on_the_line_of_its_word(tmp_path):
    # French sets a space before ? ! : ; » and after «: an ordinary one lets a phone's narrow column break
    # before the mark, which then starts a line alone ("ce n’est pas vous" / "?").
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(CATALOGUE)], check=True)
    with compiled.open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)._catalog
    breakable = {
        message: re.findall(r".{0,12} [?!:;»]|« .{0,12}", message)
        for message in catalogue.values()
        if re.search(r" [?!:;»]|« ", message)
    }
    assert breakable == {}
