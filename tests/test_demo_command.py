"""manage.py demo (bin/run, bin/screenshots): besides the login, interests and members, it publishes a brand
the member pages show, once, and never over a brand of staff's."""

from io import StringIO

import pytest
from django.contrib.admin.models import LogEntry
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from branding import services
from branding.colours import colour_problem
from branding.images import logo_read
from branding.models import Brand
from subscribers.models import Subscriber
from subscribers.tokens import make_token
from tests.brand_helpers import publish
from tests.factories import staff_user

pytestmark = pytest.mark.django_db(databases=["default", "imis"])


@pytest.fixture(autouse=True)
def _demo(imis_pg, settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the admin's password file
    settings.ASSOCIATION_NAME = ""
    cache.clear()  # rate limits of earlier tests


def demo():
    out = StringIO()
    call_command("demo", "--links", "0", stdout=out)
    return out.getvalue()


def published():
    return Brand.objects.get(state=Brand.State.PUBLISHED)


def member_page(language):
    member = Subscriber.objects.exclude(email="").order_by("imis_id").first()
    return Client(headers={"Accept-Language": language}).get(f"/p/{make_token(member)}/").content.decode()


def test_it_publishes_a_brand_the_member_pages_show_in_english_and_french():
    output = demo()

    brand = published()
    assert "a demo brand is published" in output
    assert logo_read(bytes(brand.logo)).content_type == "image/png"
    assert colour_problem(brand.primary_colour) is None  # white button text reads on it (WCAG AA)
    english, french = member_page("en"), member_page("fr")
    assert "Example Association · Email preferences" in english
    assert f'<img class="site-logo" src="/brand/logo-{brand.logo_sha256}"' in english
    assert "Our mailings keep members up to date" in english
    assert 'href="mailto:members@example.org"' in english and "Privacy policy" in english
    assert "Association Exemple · Préférences de courriel" in french and "Example Association" not in french
    assert "Nos envois tiennent les membres au courant" in french
    assert "rue Principale" in french and "Politique de confidentialité" in french


def test_its_form_reads_in_french_on_the_french_page():
    demo()
    french = member_page("fr")
    assert "Nouvelles" in french and "L’infolettre mensuelle" in french and "Formation continue" in french
    assert "Les nouvelles de l’association, une fois par mois" in french
    for english in ("The monthly newsletter", "News from the association", "Professional topics"):
        assert english not in french


def test_it_uses_the_association_name_of_the_settings(settings):
    settings.ASSOCIATION_NAME = "Guild of Testers"
    demo()
    assert (published().name, published().name_fr) == ("Guild of Testers", "")  # French pages: the same name


def test_run_twice_it_keeps_one_published_brand_published_once():
    demo()
    first = published()
    output = demo()

    assert Brand.objects.filter(state=Brand.State.PUBLISHED).count() == 1
    assert published().updated_at == first.updated_at
    assert LogEntry.objects.filter(change_message__startswith="Published").count() == 1
    assert "a demo brand is published" not in output


def test_it_never_overwrites_a_brand_staff_published():
    publish(name="Guild of Testers", primary_colour="#000000")
    demo()
    assert (published().name, published().primary_colour, published().logo) == ("Guild of Testers", "#000000", None)


def test_it_leaves_a_draft_staff_saved_and_publishes_nothing():
    services.brand_draft_update(user=staff_user(), name="Guild of Testers")
    demo()
    assert not Brand.objects.filter(state=Brand.State.PUBLISHED).exists()
    assert Brand.objects.get(state=Brand.State.DRAFT).name == "Guild of Testers"


def test_the_draft_update_refuses_what_the_admin_refuses_and_changes_nothing():
    user = staff_user()
    with pytest.raises(ValidationError, match="contrast of 1.13:1"):
        services.brand_draft_update(user=user, name="Guild of Testers", primary_colour="#f0f0f0")
    with pytest.raises(ValidationError, match="privacy_url"):
        services.brand_draft_update(user=user, privacy_url="not a link")
    assert not Brand.objects.exists()
