"""API: interests, target groups and their members (cursor pagination), combinations, CSV export."""

import csv
import io

import pytest
from django.test import override_settings

from tests.factories import make_interests, make_subscriber
from tests.mailing_helpers import URLS, api_client
from tests.members_helpers import member_of, token_of

pytestmark = [pytest.mark.django_db, URLS]


def test_it_lists_the_interests_on_the_form_with_their_group_sizes():
    news, events, hidden = make_interests(count=3)
    hidden.visible = False
    hidden.save()
    make_subscriber(imis_id="1", on=[news, events])
    make_subscriber(imis_id="2", on=[news])
    client, _, _ = api_client()

    response = client.get("/api/v1/interests/")

    assert response.status_code == 200
    assert [(i["id"], i["label"], i["table"], i["field"], i["target_group_size"]) for i in response.json()] == [
        (news.pk, "Monthly newsletter", "ud_EmailPrefs", "NEWSLETTER", 2),
        (events.pk, "Events and conferences", "ud_EmailPrefs", "EVENTS", 1),
    ]


def test_it_shows_one_target_group_and_404s_for_an_interest_not_on_the_form():
    news, hidden = make_interests(count=2)
    hidden.visible = False
    hidden.save()
    make_subscriber(imis_id="1", on=[news])
    client, _, _ = api_client()

    assert client.get(f"/api/v1/target-groups/{news.pk}/").json() == {
        "id": news.pk,
        "label": "Monthly newsletter",
        "size": 1,
    }
    response = client.get(f"/api/v1/target-groups/{hidden.pk}/")
    assert response.status_code == 404
    assert response.json()["detail"] == f"No target group {hidden.pk}: not an interest on the form."


@override_settings(MAILING_API_PAGE_SIZE=2)
def test_it_pages_through_a_group_s_members_with_a_cursor():
    [news] = make_interests(count=1)
    for n in range(5):
        make_subscriber(imis_id=f"{n:03d}", on=[news])
    make_subscriber(imis_id="999", off=[news])
    client, _, _ = api_client()

    pages, url = [], f"/api/v1/target-groups/{news.pk}/members/"
    while url:
        body = client.get(url).json()
        pages.append([m["imis_id"] for m in body["results"]])
        url = body["next"]

    assert pages == [["000", "001"], ["002", "003"], ["004"]]


def test_it_gives_each_member_working_personal_links():
    [news] = make_interests(count=1)
    subscriber = make_subscriber(imis_id="42", on=[news], first_name="Ann", last_name="Lee")
    client, _, _ = api_client()

    [row] = client.get(f"/api/v1/target-groups/{news.pk}/members/").json()["results"]

    assert {k: row[k] for k in ("imis_id", "email", "first_name", "last_name")} == {
        "imis_id": "42",
        "email": "m42@example.org",
        "first_name": "Ann",
        "last_name": "Lee",
    }
    assert row["preference_url"].startswith("https://prefs.example.org/p/")
    assert member_of(token_of(row["preference_url"])) == subscriber
    assert member_of(token_of(row["one_click_url"])) == subscriber


def test_it_lets_the_client_choose_a_page_size_up_to_the_maximum():
    [news] = make_interests(count=1)
    for n in range(3):
        make_subscriber(imis_id=str(n), on=[news])
    client, _, _ = api_client()

    with override_settings(MAILING_API_MAX_PAGE_SIZE=2):
        body = client.get(f"/api/v1/target-groups/{news.pk}/members/?page_size=50").json()

    assert len(body["results"]) == 2 and body["next"]


def test_it_sizes_and_lists_a_combination():
    a, b, c = make_interests(count=3)
    make_subscriber(imis_id="1", on=[a])
    make_subscriber(imis_id="2", on=[b, c])
    make_subscriber(imis_id="3", on=[a, b])
    client, _, _ = api_client()

    size = client.get(f"/api/v1/target-groups/combined/?any_of={a.pk},{b.pk}&none_of={c.pk}").json()
    listed = client.get(f"/api/v1/target-groups/combined/members/?any_of={a.pk}&any_of={b.pk}&none_of={c.pk}")

    assert size["size"] == 2
    assert size["description"] == "any of (Monthly newsletter, Events and conferences), minus (Advocacy alerts)"
    assert [m["imis_id"] for m in listed.json()["results"]] == ["1", "3"]


@pytest.mark.parametrize(
    "query, detail",
    [
        ("", "Choose at least one interest in any_of or all_of."),
        ("any_of=abc", "any_of[0]: A valid integer is required."),
        ("any_of=999999", "Not an interest on the form: 999999. See the list of interests for valid ids."),
    ],
)
def test_it_refuses_a_bad_combination_with_a_clear_message(query, detail):
    make_interests(count=1)
    client, _, _ = api_client()

    response = client.get(f"/api/v1/target-groups/combined/?{query}")

    assert response.status_code == 400
    assert response.json()["detail"] == detail


def test_it_exports_a_group_as_csv_through_the_api():
    [news] = make_interests(count=1)
    make_subscriber(imis_id="1", on=[news])
    make_subscriber(imis_id="2", on=[news])
    client, _, _ = api_client()

    response = client.get(f"/api/v1/target-groups/{news.pk}/export/")

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["imis_id", "email", "first_name", "last_name", "preference_url", "one_click_url", "language"]
    assert [r[0] for r in rows[1:]] == ["1", "2"]
