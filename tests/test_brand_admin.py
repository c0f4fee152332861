"""Staff set the member pages' brand in the admin: a draft, checked (logo, colour), previewed, published."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from branding.models import Brand
from branding.services import brand_draft_get
from subscribers.tokens import make_token
from tests.brand_helpers import JPEG_START, SVG, WEBP_START, png, publish
from tests.factories import make_interests, make_subscriber, staff_user

pytestmark = pytest.mark.django_db
LOGO_URL = "/admin/branding/brand/logo/"


@pytest.fixture
def staff():
    """A client signed in as a superuser, the brand's publisher in these tests."""
    client = Client()
    client.force_login(staff_user(superuser=True, username="brandstaff"))
    return client


def change_url():
    return f"/admin/branding/brand/{brand_draft_get().pk}/change/"


def form_data(**changes):
    data = {
        "name": "Guild of Testers",
        "name_fr": "Guilde des testeurs",
        "primary_colour": "#1f4e79",
        "intro": "",
        "intro_fr": "",
        "contact_email": "office@guild.example.org",
        "privacy_url": "https://guild.example.org/privacy",
        "footer": "",
        "footer_fr": "",
        "_continue": "Save draft",
    }
    return {**data, **changes}


def upload(client, content, name="logo.png", content_type="image/png"):
    return client.post(LOGO_URL, {"logo": SimpleUploadedFile(name, content, content_type)})


def error_of(response):
    return re.search(r'<p class="errornote" role="alert" id="logo-error">(.*?)</p>', response.content.decode())[1]


def test_the_brand_list_opens_the_draft(staff, settings):
    settings.ASSOCIATION_NAME = "Guild from the settings"
    response = staff.get("/admin/branding/brand/")
    draft = Brand.objects.get(state="draft")
    assert response.status_code == 302 and response["Location"] == f"/admin/branding/brand/{draft.pk}/change/"
    assert draft.name == "Guild from the settings"  # the default comes from ASSOCIATION_NAME


def test_it_takes_a_png_and_serves_it_to_staff_only_until_published(staff):
    image = png()
    response = upload(staff, image)
    assert response.status_code == 302
    draft = brand_draft_get()
    assert bytes(draft.logo) == image and draft.logo_content_type == "image/png"
    logo_url = f"/brand/logo-{draft.logo_sha256}"
    assert staff.get(logo_url).content == image
    assert Client().get(logo_url).status_code == 404  # a member cannot see the draft's logo
    assert LogEntry.objects.filter(change_message__contains="logo").exists()


@pytest.mark.parametrize(
    ("content", "content_type"), [(JPEG_START, "image/jpeg"), (WEBP_START, "image/webp"), (png(), "image/png")]
)
def test_it_knows_the_image_type_by_its_bytes_not_its_name(staff, content, content_type):
    assert upload(staff, content, name="logo.gif", content_type="application/octet-stream").status_code == 302
    assert brand_draft_get().logo_content_type == content_type


def test_it_refuses_a_logo_over_200_kb_and_says_how_big_it_is(staff):
    response = upload(staff, png(padding=250 * 1024))
    assert response.status_code == 400
    assert "The file is 250 kB; a logo may have at most 200 kB" in error_of(response)
    assert not brand_draft_get().logo


def test_it_refuses_a_huge_upload_without_reading_it(staff):
    response = upload(staff, png(padding=5 * 1024 * 1024))
    assert response.status_code == 400
    assert "a logo may have at most 200 kB" in error_of(response)
    assert not brand_draft_get().logo


def test_it_refuses_a_file_that_is_not_an_image(staff):
    response = upload(staff, b"%PDF-1.7 not a logo", name="logo.png")
    assert response.status_code == 400
    assert "This file is not a PNG, JPEG or WebP image." in error_of(response)
    assert not brand_draft_get().logo


def test_it_refuses_an_svg_saying_why(staff):
    response = upload(staff, SVG, name="logo.svg", content_type="image/svg+xml")
    assert response.status_code == 400
    assert "SVG logos are not accepted: an SVG file can carry scripts." in error_of(response)
    assert not brand_draft_get().logo


def test_it_removes_the_logo(staff):
    upload(staff, png())
    assert staff.post(LOGO_URL, {"action": "remove"}).status_code == 302
    assert not brand_draft_get().logo and brand_draft_get().logo_sha256 == ""


def test_the_logo_form_requires_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user(superuser=True))
    response = upload(client, png())
    assert response.status_code == 403
    assert not brand_draft_get().logo
    token = str(client.get(LOGO_URL).context["csrf_token"])
    form = {"logo": SimpleUploadedFile("logo.png", png(), "image/png"), "csrfmiddlewaretoken": token}
    assert client.post(LOGO_URL, form).status_code == 302  # the form's own token passes
    assert bytes(brand_draft_get().logo) == png()


def test_it_refuses_a_colour_white_text_cannot_be_read_on_and_shows_the_ratio(staff):
    response = staff.post(change_url(), form_data(primary_colour="#f0ad4e", name="Changed"))
    assert response.status_code == 200  # the form again, with the reason
    html = response.content.decode()
    assert "White button text on #f0ad4e has a contrast of 1.94:1; WCAG AA needs at least 4.5:1" in html
    assert brand_draft_get().name != "Changed"  # nothing saved


def test_it_refuses_a_colour_just_under_the_threshold_without_rounding_it_up(staff):
    # #777777: 4.478:1 with white, which would round to "4.5" but fails AA.
    response = staff.post(change_url(), form_data(primary_colour="#777777"))
    assert "has a contrast of 4.47:1" in response.content.decode()


def test_it_accepts_a_dark_colour_written_without_the_hash(staff):
    response = staff.post(change_url(), form_data(primary_colour="1F4E79"))
    assert response.status_code == 302
    assert brand_draft_get().primary_colour == "#1f4e79"


def test_it_refuses_what_is_not_a_colour(staff):
    response = staff.post(change_url(), form_data(primary_colour="navy"))
    assert "Write the colour as #RRGGBB" in response.content.decode()


def test_saving_the_draft_changes_nothing_members_see(staff, client):
    publish(name="Published Guild")
    make_interests(count=1)
    member = make_subscriber()
    staff.post(change_url(), form_data(name="Draft Guild"))
    html = client.get(f"/p/{make_token(member)}/").content.decode()
    assert "Published Guild" in html and "Draft Guild" not in html
    assert "draft has changes members do not see yet" in staff.get(change_url()).content.decode()


def test_the_preview_shows_the_draft_on_the_member_form_to_staff_only(staff):
    make_interests(count=2)
    staff.post(change_url(), form_data(name="Draft Guild", intro="Choose wisely."))
    upload(staff, png())
    preview = staff.get("/brand/preview/")
    html = preview.content.decode()
    assert preview.status_code == 200 and "Draft Guild" in html and "Choose wisely." in html
    assert 'id="brand-preview"' in html and "Monthly newsletter" in html
    assert f"/brand/logo-{brand_draft_get().logo_sha256}" in html
    assert "style-1f4e79-" in html  # the draft's colour
    assert "Guilde des testeurs" in staff.get("/brand/preview/?lang=fr").content.decode()
    anonymous = Client().get("/brand/preview/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]


def test_save_and_preview_leads_to_the_preview(staff):
    response = staff.post(change_url(), form_data(_preview="Save and preview"))
    assert response.status_code == 302 and response["Location"] == "/brand/preview/"


def test_publishing_copies_the_draft_for_members_and_logs_who(staff, client):
    upload(staff, png())
    response = staff.post(change_url(), form_data(name="Guild of Testers", _publish="Save and publish"))
    assert response.status_code == 302
    published = Brand.objects.get(state="published")
    assert published.name == "Guild of Testers" and published.primary_colour == "#1f4e79"
    assert bytes(published.logo) == png() and published.updated_by.username == "brandstaff"
    assert LogEntry.objects.filter(change_message__startswith="Published the draft brand").count() == 1
    logo = client.get(f"/brand/logo-{published.logo_sha256}")
    assert logo.status_code == 200 and logo.content == png()  # members see it now
    assert "This draft is what members see." in staff.get(change_url()).content.decode()


def test_only_the_draft_can_be_edited(staff):
    published = publish(name="Published Guild")
    assert staff.get(f"/admin/branding/brand/{published.pk}/change/").status_code == 302  # "does not exist"
    assert staff.post(f"/admin/branding/brand/{published.pk}/change/", form_data(name="X")).status_code == 302
    assert Brand.objects.get(state="published").name == "Published Guild"
