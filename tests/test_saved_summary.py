"""After a save the member lands on /saved/, a URL without their token: what the save changed travels in a
signed cookie, read only by that page, for an hour. Sharing the confirmation's URL shares nothing."""

import time
from unittest import mock

import pytest
from django.core import signing
from django.test import Client

from subscribers.models import Preference, PreferenceChange
from subscribers.views import SAVED_COOKIE, SAVED_SALT
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import form_url, post, token_of, values_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.fixture
def jane():
    member = make_subscriber(first_name="Jane")
    [news] = make_interests(count=1)
    Preference.objects.create(subscriber=member, interest=news, value=True, imis_value=True)
    return member, news


def summary(member, news, *, age=0):
    with mock.patch("time.time", return_value=time.time() - age):
        return signing.dumps([token_of(form_url(member)), [[news.pk, 0]]], salt=SAVED_SALT)


def test_it_redirects_to_a_url_without_the_token(jane):
    member, news = jane
    client = Client()

    response = post(client, form_url(member), [], action="save")

    assert response.status_code == 302 and response["Location"] == "/saved/"
    assert token_of(form_url(member)) not in response["Location"]
    cookie = response.cookies[SAVED_COOKIE]
    assert cookie["path"] == "/saved/" and cookie["httponly"] and int(cookie["max-age"]) == 3600
    page = client.get(response["Location"]).content.decode()
    assert "You will no longer receive" in page and "Change my choices" in page


def test_the_confirmation_shows_nothing_of_the_member_without_the_cookie(jane):
    member, news = jane
    client = Client()
    post(client, form_url(member), [], action="save")

    shared = Client().get("/saved/")

    html = shared.content.decode()
    assert shared.status_code == 200 and "no-store" in shared["Cache-Control"]
    assert "Jane" not in html and token_of(form_url(member)) not in html and "You will no longer receive" not in html


def test_the_summary_changes_nothing(jane):
    member, news = jane
    client = Client()
    client.cookies[SAVED_COOKIE] = summary(member, news)

    statuses = [getattr(client, method)("/saved/").status_code for method in ("post", "put", "delete")]

    assert statuses == [405, 405, 405]
    assert values_of(member) == {news.pk: True} and not PreferenceChange.objects.exists()


def test_a_summary_lasts_an_hour_and_a_forged_one_shows_nothing(jane):
    member, news = jane

    def page(value):
        client = Client()
        client.cookies[SAVED_COOKIE] = value
        return client.get("/saved/").content.decode()

    assert "You will no longer receive" in page(summary(member, news))
    assert "You will no longer receive" not in page(summary(member, news, age=3600 + 60))
    forged = signing.dumps([token_of(form_url(member)), [[news.pk, 0]]], salt="another salt")
    assert "You will no longer receive" not in page(forged)


def test_a_summary_of_a_rotated_link_shows_the_link_invalid_page(jane):
    member, news = jane
    value = summary(member, news)
    member.token_version += 1
    member.save(update_fields=["token_version"])
    client = Client()
    client.cookies[SAVED_COOKIE] = value

    response = client.get("/saved/")

    assert response.status_code == 404 and "You will no longer receive" not in response.content.decode()
