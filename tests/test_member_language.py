"""The member pages' language: from the link (?lang=), else the switcher's choice, else the browser."""

import re

import pytest
from django.core import mail
from django.test import Client, override_settings

from subscribers.models import Preference, PreferenceChange
from subscribers.tokens import make_token
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import checked_ids, shown_in, values_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]
FRENCH_TITLE = "Vos préférences de courriel"
ENGLISH_TITLE = "Your email preferences"
CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def interests():
    return make_interests(count=3)


@pytest.fixture
def member(interests):
    jeanne = make_subscriber(first_name="Jeanne", email="jeanne@example.org")
    Preference.objects.create(subscriber=jeanne, interest=interests[1], value=True)
    return jeanne


def page(client, path, **headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def test_it_speaks_the_browsers_language(client, member):
    french = page(client, f"/p/{make_token(member)}/", accept_language="fr-CA,fr;q=0.9,en;q=0.5")
    assert FRENCH_TITLE in french and 'lang="fr"' in french and "Bonjour Jeanne." in french
    assert "Enregistrer mes choix" in french and "Sujets des courriels" not in french  # the sandbox's groups
    # The form's pieces are cached per language: English stays English after a French page.
    english = page(Client(), f"/p/{make_token(member)}/", accept_language="en")
    assert ENGLISH_TITLE in english and 'lang="en"' in english and FRENCH_TITLE not in english


def test_it_translates_the_default_group_heading(client):
    (interest,) = make_interests(count=1)
    interest.group = ""
    interest.save()
    member = make_subscriber()
    assert "Sujets des courriels" in page(client, f"/p/{make_token(member)}/", accept_language="fr")
    assert "Email topics" in page(Client(), f"/p/{make_token(member)}/", accept_language="en")


def test_it_switches_language_with_the_pages_switcher(member):
    client = Client(enforce_csrf_checks=True)
    path = f"/p/{make_token(member)}/"
    english = page(client, path)
    switcher = re.search(r'<form class="language-switcher" method="post" action="([^"]+)">(.*?)</form>', english, re.S)
    assert switcher, "the page has a language switcher"
    action, fields = switcher.groups()
    # The page's path (its token) travels in the POST body, never in a URL.
    assert f'name="next" value="{path}"' in fields and 'name="language" value="fr"' in fields
    response = client.post(
        action, {"language": "fr", "next": path, "csrfmiddlewaretoken": CSRF_VALUE.search(fields)[1]}
    )
    assert response.status_code == 302 and response["Location"] == path
    assert FRENCH_TITLE in page(client, path)
    # Back to English, from the French page's own switcher.
    assert 'name="language" value="en"' in page(client, path)


def test_it_refuses_a_switch_without_csrf_token_or_to_another_site(member):
    client = Client(enforce_csrf_checks=True)
    path = f"/p/{make_token(member)}/"
    assert client.post("/i18n/setlang/", {"language": "fr", "next": path}).status_code == 403
    page(client, path)
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/i18n/setlang/", {"language": "fr", "next": "https://evil.example/", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_it_speaks_the_links_language_over_the_browsers(client, member):
    path = f"/p/{make_token(member)}/"
    assert FRENCH_TITLE in page(client, f"{path}?lang=fr", accept_language="en")
    assert ENGLISH_TITLE in page(Client(), f"{path}?lang=en", accept_language="fr")
    # An unknown language is ignored, never an error.
    assert ENGLISH_TITLE in page(Client(), f"{path}?lang=xx")


def test_it_saves_in_french_from_a_french_link(client, member, interests):
    first, second, _ = interests
    path = f"/p/{make_token(member)}/?lang=fr"
    shown = shown_in(page(client, path, accept_language="en"))
    response = client.post(path, {f"interest_{first.pk}": "on", "shown": shown, "action": "save"})  # second off
    assert response.status_code == 302
    saved = page(client, response["Location"], accept_language="en")  # the link's language, kept in a cookie
    assert (
        "Vos choix sont enregistrés" in saved
        and "Vous recevrez désormais" in saved
        and "Vous ne recevrez plus" in saved
    )
    assert values_of(member) == {first.pk: True, second.pk: False}
    assert checked_ids(page(client, path)) == {first.pk}


def test_it_says_a_bad_request_in_french(client, member):
    response = client.post(f"/p/{make_token(member)}/?lang=fr", {"shown": "forged"})
    assert response.status_code == 400
    assert "Cette page est restée ouverte trop longtemps" in response.content.decode()


def test_it_unsubscribes_in_one_click_in_french(client, member):
    path = f"/p/{make_token(member)}/one-click?lang=fr"
    assert "Vous désabonner de tous ces courriels\u00a0?" in page(client, path)
    response = client.post(path, {"confirm": "1"})
    assert response.status_code == 303
    assert "Votre désabonnement est confirmé" in page(client, response["Location"])
    assert PreferenceChange.objects.filter(subscriber=member, source="one_click", new_value=False).count() == 1
    assert values_of(member) and not any(values_of(member).values())


@override_settings(SITE_URL="https://prefs.example.org", ASSOCIATION_NAME="Ordre des exemples")
def test_it_mails_the_lost_link_in_the_language_of_the_page(client, member):
    response = client.post("/lost-link/?lang=fr", {"email": "jeanne@example.org"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.subject == "Votre lien vers vos préférences de courriel · Ordre des exemples"
    assert "Ce lien est personnel" in message.body and "auprès de Ordre des exemples" in message.body


def test_it_keeps_staff_pages_in_the_default_language(client):
    login = client.get("/admin/login/", headers={"accept-language": "fr"}, follow=True).content.decode()
    assert 'lang="en"' in login and "Log in" in login


def test_it_says_a_refused_post_in_french(client, member):
    response = client.post(
        f"/p/{make_token(member)}/?lang=fr", data="{}", content_type="application/json", headers={"accept": "text/html"}
    )
    assert response.status_code == 400
    assert "Cette page n’accepte que son propre formulaire" in response.content.decode()
