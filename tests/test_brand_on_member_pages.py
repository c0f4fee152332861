"""The published brand on every member page and in the link email, read through a cache that decides
nothing: the pages cost the same queries with a brand as without, and a cold or broken cache reads the
database."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from branding import selectors
from branding.stylesheet import VERSION
from preference_center.lib.breaker import redis_breaker
from subscribers.tasks import mail_links
from subscribers.tokens import make_token
from tests.brand_helpers import png, publish
from tests.factories import make_interests, make_subscriber

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

BRAND = {
    "name": "Guild of Testers",
    "name_fr": "Guilde des testeurs",
    "primary_colour": "#1f4e79",
    "intro": "We write to members about what matters to them.",
    "intro_fr": "",  # empty: the English intro, never an empty box
    "contact_email": "office@guild.example.org",
    "privacy_url": "https://guild.example.org/privacy",
    "footer": "1 Test Street, Ottawa",
    "footer_fr": "1, rue de l'Essai, Ottawa",
}


@pytest.fixture
def member():
    make_interests(count=3)
    return make_subscriber(email="jane.doe@example.org", first_name="Jane")


def get(path, language="en"):
    response = Client(headers={"Accept-Language": language}).get(path)
    return response, response.content.decode()


def test_the_member_form_carries_the_published_brand(member):
    brand = publish(logo=png(), **BRAND)
    _, html = get(f"/p/{make_token(member)}/")
    assert "<title>Email preferences · Guild of Testers</title>" in html
    assert f'<img class="site-logo" src="/brand/logo-{brand.logo_sha256}" alt="">' in html
    assert f'href="/brand/style-1f4e79-{VERSION}.css"' in html
    assert "We write to members about what matters to them." in html
    assert 'href="mailto:office@guild.example.org"' in html and 'href="https://guild.example.org/privacy"' in html
    assert "1 Test Street, Ottawa" in html


def test_the_french_pages_carry_the_french_brand_falling_back_to_english(member):
    publish(**BRAND)
    _, html = get(f"/p/{make_token(member)}/", "fr")
    assert "Guilde des testeurs · Préférences de courriel" in html and "Guild of Testers" not in html
    assert "We write to members about what matters to them." in html  # no French intro: the English one
    assert "1, rue de l&#x27;Essai, Ottawa" in html and "Politique de confidentialité" in html


@pytest.mark.parametrize(
    "path", ["/", "/lost-link/", "/lost-link/sent/", "/saved/", "/p/not-a-token/", "/no-such-page/"]
)
def test_every_member_page_carries_it(path):
    publish(**BRAND)
    _, html = get(path)
    assert "Guild of Testers" in html and f"style-1f4e79-{VERSION}.css" in html and "office@guild.example.org" in html


def test_the_one_click_pages_and_the_refused_request_page_carry_it(member):
    publish(**BRAND)
    client = Client()
    confirmation = client.get(f"/p/{make_token(member)}/one-click").content.decode()
    done = client.get(f"/p/{make_token(member)}/unsubscribed").content.decode()
    refused = client.post(f"/p/{make_token(member)}/", "{}", content_type="application/json")
    assert refused.status_code == 400
    for html in (confirmation, done, refused.content.decode()):
        assert "Guild of Testers" in html and "office@guild.example.org" in html


def test_without_a_published_brand_the_pages_carry_the_settings_name_and_bootstrap(member, settings):
    settings.ASSOCIATION_NAME = "Guild from the settings"
    _, html = get(f"/p/{make_token(member)}/")
    assert "Guild from the settings · Email preferences" in html
    assert "/brand/style-" not in html and "site-logo" not in html and "<footer" not in html


def test_the_stylesheet_puts_the_colour_on_buttons_links_and_ticks_and_is_cached_for_good():
    response = Client().get(f"/brand/style-1f4e79-{VERSION}.css")
    css = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    assert "immutable" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert re.search(r"\.btn-primary \{[^}]*--bs-btn-bg: #1f4e79", css)
    assert re.search(r"--bs-link-color: #1f4e79", css)
    assert re.search(r"\.form-check-input:checked \{ background-color: #1f4e79", css)
    assert Client().get("/brand/style-nothex-x.css").status_code == 404


def test_the_logo_is_served_as_an_image_only_with_long_cache_headers():
    brand = publish(logo=png())
    response = Client().get(f"/brand/logo-{brand.logo_sha256}")
    assert response.status_code == 200 and response.content == png()
    assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]
    assert Client().get("/brand/logo-" + "0" * 64).status_code == 404


def test_the_link_email_carries_the_name_and_footer_in_the_members_language():
    publish(**BRAND)
    jeanne = make_subscriber(email="jeanne@example.org", first_name="Jeanne")
    mail_links.apply(args=[[jeanne.pk]], kwargs={"language": "fr"}).get()
    [message] = mail.outbox
    assert message.subject.endswith("· Guilde des testeurs")
    assert "Guilde des testeurs" in message.body and "1, rue de l'Essai, Ottawa" in message.body
    assert (
        "Contact\u00a0: office@guild.example.org" in message.body
        and "Politique de confidentialité\u00a0:" in message.body
    )
    assert "https://guild.example.org/privacy" in message.body


def queries_of_a_warm_form_get(url):
    client = Client()
    client.get(url)  # the markup and the brand are cached from here on
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_form_costs_the_same_queries_with_a_brand_as_without(member):
    url = f"/p/{make_token(member)}/"
    without = queries_of_a_warm_form_get(url)
    publish(logo=png(), **BRAND)
    assert queries_of_a_warm_form_get(url) == without
    assert "Guild of Testers" in get(url)[1]


def test_a_publish_shows_at_once_and_a_cold_cache_reads_the_database(member):
    url = f"/p/{make_token(member)}/"
    assert "Guild of Testers" not in get(url)[1]
    publish(**BRAND)
    assert "Guild of Testers" in get(url)[1]  # this process's copy was dropped, the cache refreshed
    cache.clear()
    selectors.forget_local()
    assert "Guild of Testers" in get(url)[1]


def test_with_redis_unreachable_the_brand_comes_from_the_database(member):
    publish(**BRAND)
    selectors.forget_local()
    redis_breaker.trip()  # as after a failed Redis call: the cache is left alone
    assert "Guild of Testers" in get(f"/p/{make_token(member)}/")[1]


def test_the_500_page_carries_the_brand_the_cache_holds_without_a_query(django_assert_num_queries):
    from django.test import RequestFactory

    from preference_center.error_pages import server_error

    publish(**BRAND)
    get("/lost-link/")  # a page read the brand into the cache
    with django_assert_num_queries(0):
        html = server_error(RequestFactory().get("/boom/")).content.decode()
    assert "Guild of Testers" in html and "office@guild.example.org" in html
