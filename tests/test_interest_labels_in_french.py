"""Interest labels, descriptions and group headings in the member's language, as staff wrote them; a
translation left empty falls back to the default language, never to an empty box."""

import re

import pytest
from django.test import Client

from subscribers.models import PreferenceChange
from subscribers.tokens import make_token
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.fixture
def interests():
    newsletter, events, advocacy = make_interests(count=3)  # groups: News, News, Advocacy
    newsletter.label_fr = "Infolettre mensuelle"
    newsletter.description_fr = "Les nouvelles de l'association, une fois par mois"
    newsletter.group_fr = "Nouvelles"  # once for the group: the events take it too
    newsletter.save()
    advocacy.label, advocacy.prompt = "", "Advocacy in iMIS"  # no label: the iMIS prompt, in either language
    advocacy.save()
    return newsletter, events, advocacy


@pytest.fixture
def member(interests):
    return make_subscriber(email="jeanne@example.org", first_name="Jeanne")


def page(member, language):
    return Client(headers={"Accept-Language": language}).get(f"/p/{make_token(member)}/").content.decode()


def labels(html):
    return [
        " ".join(t.split())
        for t in re.findall(r'<label for="id_interest_\d+" class="form-check-label">(.*?)</label>', html, re.S)
    ]


def legends(html):
    return re.findall(r"<legend>(.*?)</legend>", html)


def test_the_french_form_shows_what_staff_wrote_in_french_and_english_where_they_did_not(member):
    html = page(member, "fr")
    assert labels(html) == ["Infolettre mensuelle", "Events and conferences", "Advocacy in iMIS"]
    assert "Les nouvelles de l&#x27;association, une fois par mois" in html
    assert "Invitations to meetings and the annual conference" in html  # no French description: the English one
    assert legends(html) == ["Nouvelles", "Advocacy"]  # the group's French heading, written once


def test_the_english_form_stays_english_after_a_french_one(member):
    page(member, "fr")  # the form's pieces are cached per language and labels
    html = page(member, "en")
    assert labels(html) == ["Monthly newsletter", "Events and conferences", "Advocacy in iMIS"]
    assert legends(html) == ["News", "Advocacy"] and "Infolettre" not in html


def test_a_french_label_staff_change_shows_at_once(member, interests):
    page(member, "fr")
    newsletter = interests[0]
    newsletter.label_fr = "La lettre du mois"
    newsletter.save()
    assert labels(page(member, "fr"))[0] == "La lettre du mois"


def test_a_french_label_emptied_falls_back_to_the_english_one(member, interests):
    newsletter = interests[0]
    newsletter.label_fr = ""
    newsletter.save()
    assert labels(page(member, "fr"))[0] == "Monthly newsletter"


def test_the_saved_page_and_the_history_speak_the_members_language(member, interests):
    client = Client(headers={"Accept-Language": "fr"})
    url = f"/p/{make_token(member)}/"
    response = post(client, url, [interests[0]])
    saved = client.get(response["Location"]).content.decode()
    assert "Vous recevrez désormais" in saved and "<li>Infolettre mensuelle</li>" in saved
    assert PreferenceChange.objects.get().label_shown.startswith("Infolettre mensuelle: ")
