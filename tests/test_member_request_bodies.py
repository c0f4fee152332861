"""The member's pages take their own form and nothing else: a file part (never spooled to disk), a JSON
body (which read as "everything off") or a form in another charset gets a 400 page and changes nothing."""

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.test.client import encode_multipart

from subscribers.models import Preference, PreferenceChange
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import form_url, values_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]
BIG = b"x" * (3 * 1024 * 1024)  # over FILE_UPLOAD_MAX_MEMORY_SIZE: Django would spool it to a temporary file


@pytest.fixture
def subscribed():
    member = make_subscriber(email="jane@example.org")
    for interest in make_interests(count=3):
        Preference.objects.create(subscriber=member, interest=interest, value=True, imis_value=True)
    return member


class Upload:
    name = "cv.pdf"

    def read(self):
        return BIG


def post_with_a_file(url, fields):
    body = encode_multipart("BoUnDaRy", {**fields, "file": Upload()})
    return Client().post(url, body, content_type="multipart/form-data; boundary=BoUnDaRy")


@pytest.mark.parametrize("page", ["form", "one-click"])
def test_a_file_part_is_refused_and_never_written_to_disk(subscribed, page, tmp_path):
    url = form_url(subscribed) + ("one-click" if page == "one-click" else "")
    fields = {"List-Unsubscribe": "One-Click"} if page == "one-click" else {"action": "untick_all"}

    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        response = post_with_a_file(url, fields)

    assert response.status_code == 400
    assert "accepts only its own form" in response.content.decode()
    assert list(tmp_path.iterdir()) == []  # nothing spooled
    assert set(values_of(subscribed).values()) == {True}
    assert not PreferenceChange.objects.exists()


def test_the_lost_link_page_refuses_a_file_part_and_mails_nothing(subscribed, tmp_path):
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        response = post_with_a_file("/lost-link/", {"email": "jane@example.org"})

    assert response.status_code == 400
    assert list(tmp_path.iterdir()) == [] and mail.outbox == []


def test_a_json_body_is_not_read_as_everything_off(subscribed):
    response = Client().post(form_url(subscribed), {"action": "save"}, content_type="application/json")

    assert response.status_code == 400
    assert "accepts only its own form" in response.content.decode()
    assert set(values_of(subscribed).values()) == {True}
    assert not PreferenceChange.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded; charset=utf-16", "multipart/form-data; charset=utf-16; boundary=BoUnDaRy"],
)
def test_a_form_in_another_charset_gets_a_clear_400(subscribed, content_type):
    body = (
        encode_multipart("BoUnDaRy", {"List-Unsubscribe": "One-Click"})
        if "multipart" in content_type
        else b"List-Unsubscribe=One-Click"
    )

    response = Client().post(form_url(subscribed) + "one-click", body, content_type=content_type)

    assert response.status_code == 400
    assert "not sent in UTF-8" in response.content.decode()
    assert set(values_of(subscribed).values()) == {True}


def test_a_mail_clients_multipart_one_click_still_unsubscribes(subscribed):
    body = encode_multipart("BoUnDaRy", {"List-Unsubscribe": "One-Click"})

    response = Client(enforce_csrf_checks=True).post(
        form_url(subscribed) + "one-click", body, content_type="multipart/form-data; boundary=BoUnDaRy"
    )

    assert response.status_code == 200
    assert set(values_of(subscribed).values()) == {False}
