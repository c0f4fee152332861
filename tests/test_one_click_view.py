"""RFC 8058 one-click unsubscribe at /p/<token>/one-click."""

import re

import pytest
from django.test import Client, override_settings

from subscribers.models import Preference, PreferenceChange
from subscribers.tokens import make_token, one_click_url
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import values_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.fixture
def subscribed():
    member = make_subscriber()
    interests = make_interests(count=3)
    for interest in interests:
        Preference.objects.create(subscriber=member, interest=interest, value=True, imis_value=True)
    return member


def url(member):
    return one_click_url(member).removeprefix("https://prefs.example.org")


def test_it_unsubscribes_from_everything_on_the_rfc_8058_post_without_csrf(
    subscribed, django_capture_on_commit_callbacks, pushes_recorded
):
    mail_provider = Client(enforce_csrf_checks=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = mail_provider.post(
            url(subscribed), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == 200
    assert set(values_of(subscribed).values()) == {False}
    assert PreferenceChange.objects.filter(source="one_click", new_value=False, state="pending").count() == 3
    assert pushes_recorded == [True]  # the sync was asked to push them, once, after the commit
    assert "no-store" in response["Cache-Control"]


def test_it_shows_a_confirmation_button_on_get_and_changes_nothing(client, subscribed):
    response = client.get(url(subscribed))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Yes, unsubscribe me" in html and "csrfmiddlewaretoken" in html
    assert set(values_of(subscribed).values()) == {True}


def test_it_unsubscribes_with_the_confirmation_button(subscribed):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url(subscribed))
    token = page.context["csrf_token"]
    response = browser.post(url(subscribed), {"confirm": "1", "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 303  # POST/redirect/GET: reloading the next page posts nothing again
    assert response["Location"] == url(subscribed).replace("/one-click", "/unsubscribed")
    assert set(values_of(subscribed).values()) == {False}


def test_it_requires_csrf_for_the_confirmation_button(subscribed):
    response = Client(enforce_csrf_checks=True).post(url(subscribed), {"confirm": "1"})
    assert response.status_code == 403
    assert set(values_of(subscribed).values()) == {True}


def test_it_refuses_an_unknown_body(client, subscribed):
    response = client.post(url(subscribed), {"List-Unsubscribe": "Maybe"})
    assert response.status_code == 400
    assert set(values_of(subscribed).values()) == {True}


def test_it_answers_a_tampered_link_with_404(subscribed):
    token = make_token(subscribed)
    response = Client().post(
        f"/p/{token}x/one-click", "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 404
    assert not PreferenceChange.objects.exists()


def test_it_writes_no_history_for_a_member_already_unsubscribed(client):
    member = make_subscriber()
    make_interests(count=2)
    response = client.post(url(member), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not PreferenceChange.objects.exists()


# --- forwarded mail: PREFERENCES_CONFIRM_EMAIL ------------------------------------------------------------


@override_settings(PREFERENCES_CONFIRM_EMAIL=True)
def test_the_confirmation_button_asks_for_the_address_in_confirm_mode(client, subscribed):
    assert 'name="confirm_email"' in client.get(url(subscribed)).content.decode()

    forwarded = client.post(url(subscribed), {"confirm": "1"})
    wrong = client.post(url(subscribed), {"confirm": "1", "confirm_email": "someone.else@example.org"})

    assert forwarded.status_code == 400 and wrong.status_code == 400
    assert "Nothing was saved" in wrong.content.decode() and "no-store" in wrong["Cache-Control"]
    assert set(values_of(subscribed).values()) == {True}
    assert not PreferenceChange.objects.exists()

    response = client.post(url(subscribed), {"confirm": "1", "confirm_email": subscribed.email.upper()})
    assert response.status_code == 303
    assert set(values_of(subscribed).values()) == {False}


@override_settings(PREFERENCES_CONFIRM_EMAIL=True)
def test_the_rfc_8058_post_still_needs_no_address_in_confirm_mode(subscribed):
    response = Client(enforce_csrf_checks=True).post(
        url(subscribed), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert set(values_of(subscribed).values()) == {False}


def test_it_unsubscribes_in_two_queries_the_interests_and_the_save(subscribed, django_assert_num_queries):
    mail_provider = Client()
    with django_assert_num_queries(2):
        response = mail_provider.post(
            url(subscribed), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == 200
    assert set(values_of(subscribed).values()) == {False}


# --- what the pages say -----------------------------------------------------------------------------------


def test_the_rfc_8058_post_gets_a_short_answer_and_no_redirect(subscribed):
    # RFC 8058 section 3.1: the sender MUST NOT return an HTTPS redirect to the mail provider's POST.
    response = Client().post(
        url(subscribed), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200 and not response.has_header("Location")
    assert response["Content-Type"].startswith("text/plain")


def test_the_confirmation_lists_the_emails_that_will_stop_and_the_masked_address(client):
    member = make_subscriber(email="jane.doe@example.org")
    newsletter, events, advocacy = make_interests(count=3)
    for interest in (newsletter, advocacy):
        Preference.objects.create(subscriber=member, interest=interest, value=True)
    html = client.get(url(member)).content.decode()
    assert "j•••@example.org" in html and "jane.doe@" not in html
    stopping = re.search(r'<ul id="stopping">(.*?)</ul>', html, re.S)[1]
    assert stopping == "<li>Monthly newsletter</li><li>Advocacy alerts</li>"  # not the events: already off


def test_the_confirmation_speaks_french_with_the_french_labels():
    member = make_subscriber(email="jeanne@example.org")
    (newsletter,) = make_interests(count=1)
    newsletter.label_fr = "Infolettre mensuelle"
    newsletter.save()
    Preference.objects.create(subscriber=member, interest=newsletter, value=True)
    html = Client(headers={"Accept-Language": "fr"}).get(url(member)).content.decode()
    assert "<li>Infolettre mensuelle</li>" in html and "Oui, me désabonner" in html


def test_a_member_receiving_nothing_is_told_so_and_offered_no_button(client):
    member = make_subscriber()
    make_interests(count=2)
    html = client.get(url(member)).content.decode()
    assert "You are not subscribed to any of these emails" in html
    assert "Yes, unsubscribe me" not in html


def test_the_unsubscribed_page_says_so_and_reloading_it_writes_nothing(subscribed):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url(subscribed))
    response = browser.post(url(subscribed), {"confirm": "1", "csrfmiddlewaretoken": str(page.context["csrf_token"])})
    done = browser.get(response["Location"])
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    assert "no-store" in done["Cache-Control"]
    changes = PreferenceChange.objects.count()
    assert browser.get(response["Location"]).status_code == 200  # a reload: a GET, nothing posted
    assert PreferenceChange.objects.count() == changes == 3


def test_the_unsubscribed_page_shows_emails_chosen_again_since(client, subscribed):
    client.post(url(subscribed), {"List-Unsubscribe": "One-Click"})
    newsletter = Preference.objects.filter(subscriber=subscribed).order_by("interest__position").first()
    Preference.objects.filter(pk=newsletter.pk).update(value=True)
    html = client.get(url(subscribed).replace("/one-click", "/unsubscribed")).content.decode()
    assert "Your subscriptions now" in html and "<li>Monthly newsletter</li>" in html


def test_the_unsubscribed_page_of_a_forged_link_is_the_link_invalid_page(client):
    response = client.get("/p/forged/unsubscribed")
    assert response.status_code == 404 and "This link does not work any more" in response.content.decode()
