"""The staff site's branding, and the site's own 404 and 500 pages."""

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from preference_center.error_pages import server_error
from tests.brand_helpers import publish

pytestmark = pytest.mark.django_db


def test_the_admin_is_branded_with_the_association_name(admin_client, settings):
    settings.ASSOCIATION_NAME = "Guild of Testers"
    html = admin_client.get("/admin/").content.decode()
    assert "Preference Center · Guild of Testers" in html
    assert "Django administration" not in html and "Django site admin" not in html


def test_the_admin_is_headed_with_the_published_brand_s_name_from_the_moment_it_is_published(admin_client, settings):
    settings.ASSOCIATION_NAME = "Guild of Testers"
    admin_client.get("/admin/")  # the setting's name read (and held) first
    publish(name="Ottawa Testing Society", name_fr="Société des essais d'Ottawa")

    html = admin_client.get("/admin/").content.decode()

    assert "Preference Center · Ottawa Testing Society</a>" in html  # the staff site is in English
    assert "<title>Start | Preference Center staff · Ottawa Testing Society</title>" in html
    assert "Guild of Testers" not in html


def test_a_published_brand_without_a_name_leaves_the_setting_s_name(admin_client, settings):
    settings.ASSOCIATION_NAME = "Guild of Testers"
    publish(name="", primary_colour="#1f4e79")
    assert "Preference Center · Guild of Testers</a>" in admin_client.get("/admin/").content.decode()


def test_the_brand_s_name_costs_a_staff_page_no_query_once_read(admin_client):
    publish(name="Ottawa Testing Society")
    admin_client.get("/admin/")
    with CaptureQueriesContext(connection) as captured:
        html = admin_client.get("/admin/").content.decode()
    assert "Preference Center · Ottawa Testing Society" in html
    assert not [q["sql"] for q in captured.captured_queries if "branding_brand" in q["sql"]]


def test_the_admin_without_an_association_name_says_preference_center(admin_client, settings):
    settings.ASSOCIATION_NAME = ""
    html = admin_client.get("/admin/").content.decode()
    assert "<title>Start | Preference Center staff</title>" in html
    assert "View site" not in html  # it led to a bare page


def test_an_unknown_url_gets_the_styled_404(client, settings):
    settings.ASSOCIATION_NAME = "Guild of Testers"
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html and "Guild of Testers" in html and "bootstrap" in html
    assert 'href="/lost-link/"' in html


def test_the_404_speaks_the_visitor_s_language():
    french = Client(headers={"Accept-Language": "fr"}).get("/no-such-page/").content.decode()
    english = Client(headers={"Accept-Language": "en"}).get("/no-such-page/").content.decode()
    assert "Page introuvable" in french and 'href="/lost-link/">demandez un nouveau lien</a>' in french
    assert "Page not found" in english and "Page introuvable" not in english


def test_the_500_page_renders_without_a_database_or_a_request_context(settings, django_assert_num_queries):
    settings.ASSOCIATION_NAME = "Guild of Testers"
    request = RequestFactory().get("/boom/")
    with django_assert_num_queries(0):
        response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html and "Guild of Testers" in html and "bootstrap" in html


def test_every_page_offering_a_new_link_says_the_same(client):
    invalid = client.get("/p/not-a-real-token/").content.decode()
    lost = client.get("/lost-link/").content.decode()
    assert "Email me my link" in invalid and "Email me my link" in lost
    assert "Email me a fresh link" not in invalid
