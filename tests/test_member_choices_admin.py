"""Staff change a member's choices on the member's admin page (a member phones in)."""

import re

import pytest

from subscribers.models import PreferenceChange
from subscribers.services.preferences import preferences_save
from tests.factories import make_interests, make_subscriber, staff_user
from tests.members_helpers import values_of

pytestmark = pytest.mark.django_db


def page_url(member):
    return f"/admin/subscribers/subscriber/{member.pk}/change/"


def form_data(html):
    """What the browser would post: every hidden input and ticked box of the page's form."""
    data = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and ('type="hidden"' in tag or ('type="checkbox"' in tag and "checked" in tag)):
            data[name.group(1)] = value.group(1) if value else "on"
    return data


def post_choices(client, member, ticked, note):
    html = client.get(page_url(member)).content.decode()
    data = {k: v for k, v in form_data(html).items() if not k.startswith("interest_")}
    data.update({f"interest_{interest.pk}": "on" for interest in ticked})
    data.update({"staff_note": note, "_save": "Save"})
    return client.post(page_url(member), data)


def test_it_saves_a_phoned_in_change_with_the_staff_user_and_note_and_pushes_it(
    client, pushes_recorded, django_capture_on_commit_callbacks
):
    newsletter, events = make_interests(count=2)
    member = make_subscriber()
    preferences_save(subscriber=member, wanted={events.pk: True}, source="form")
    desk = staff_user("view_subscriber", "change_preference")
    client.force_login(desk)
    page = client.get(page_url(member)).content.decode()
    assert f'name="interest_{events.pk}"' in page and 'name="_save"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = post_choices(client, member, ticked=[newsletter], note="phoned: wants the newsletter, no events")

    assert response.status_code == 302
    assert values_of(member) == {newsletter.pk: True, events.pk: False}
    made = PreferenceChange.objects.filter(source="admin").order_by("interest_id")
    assert [(c.interest_id, c.new_value, c.state) for c in made] == [
        (newsletter.pk, True, "pending"),
        (events.pk, False, "pending"),
    ]
    assert {c.changed_by_id for c in made} == {desk.pk}
    assert {c.note for c in made} == {"phoned: wants the newsletter, no events"}
    assert pushes_recorded == [True]  # the same outbox as the member's own saves


def test_it_requires_a_note_and_changes_nothing_without_one(client):
    (newsletter,) = make_interests(count=1)
    member = make_subscriber()
    client.force_login(staff_user("view_subscriber", "change_preference"))
    response = post_choices(client, member, ticked=[newsletter], note="")
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert values_of(member) == {} and not PreferenceChange.objects.exists()


def test_staff_without_the_permission_see_the_choices_read_only_and_no_save_button(client):
    (newsletter,) = make_interests(count=1)
    member = make_subscriber()
    preferences_save(subscriber=member, wanted={newsletter.pk: True}, source="form")
    client.force_login(staff_user("view_subscriber", "change_subscriber", "view_preference"))
    page = client.get(page_url(member)).content.decode()
    assert "Monthly newsletter: on" in page  # the choice, read-only
    assert 'name="_save"' not in page and "_continue" not in page and 'name="interest_' not in page
    response = post_choices(client, member, ticked=[], note="trying anyway")
    assert response.status_code == 403 and values_of(member) == {newsletter.pk: True}


def test_the_history_reads_as_label_old_new_source_who(client):
    (newsletter,) = make_interests(count=1)
    member = make_subscriber()
    desk = staff_user(
        "view_subscriber", "change_preference", "view_preferencechange", first_name="Pat", last_name="Desk"
    )
    preferences_save(subscriber=member, wanted={newsletter.pk: True}, source="form", ip_address="192.0.2.77")
    preferences_save(subscriber=member, wanted={newsletter.pk: False}, source="admin", note="by phone", changed_by=desk)
    client.force_login(desk)
    page = client.get(page_url(member)).content.decode()
    assert "Monthly newsletter: off → on (member form)" in page
    assert "Monthly newsletter: on → off (staff (admin))" in page
    assert "Pat Desk" in page and "the member" in page
    assert "192.0.2.0/24 (anonymised)" in page
    assert not re.search(r"\d+:\d+=(True|False)", page)
    assert not any(str(c.uuid) in page for c in PreferenceChange.objects.all())


def test_it_finds_members_by_last_or_first_name_and_says_what_is_searched(admin_client):
    make_subscriber(first_name="Grace", last_name="Hopper", email="g@example.org")
    make_subscriber(first_name="Ada", last_name="Lovelace", email="a@example.org")
    by_last = admin_client.get("/admin/subscribers/subscriber/", {"q": "hopper"}).content.decode()
    assert "g@example.org" in by_last and "a@example.org" not in by_last
    by_first = admin_client.get("/admin/subscribers/subscriber/", {"q": "Ada"}).content.decode()
    assert "a@example.org" in by_first and "g@example.org" not in by_first
    assert "first and last name" in by_first


def test_staff_see_the_members_page_as_they_see_it_read_only_without_a_link(client):
    newsletter, events = make_interests(count=2)
    member = make_subscriber(first_name="Grace", email="grace@example.org")
    preferences_save(subscriber=member, wanted={events.pk: True}, source="form")
    client.force_login(staff_user("view_subscriber"))
    change_page = client.get(page_url(member)).content.decode()
    url = f"/admin/subscribers/subscriber/{member.pk}/as-member/"
    assert f'href="{url}"' in change_page
    html = client.get(url).content.decode()
    assert "Hello Grace." in html and "g•••@example.org" in html
    assert re.search(rf'name="interest_{events.pk}"[^>]*checked', html)
    assert not re.search(rf'name="interest_{newsletter.pk}"[^>]*checked', html)
    assert "<fieldset disabled>" in html and "/p/" not in html and "csrfmiddlewaretoken" not in html
    assert client.post(url).status_code == 405


def test_the_members_page_is_for_staff_only(client):
    member = make_subscriber()
    url = f"/admin/subscribers/subscriber/{member.pk}/as-member/"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(staff_user())
    assert client.get(url).status_code == 403
