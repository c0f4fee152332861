"""The member's form is served from pieces of preferences.html rendered once (subscribers.views._form_page):
it must be the very page the template renders for that member, and hold nothing of another member."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import override_settings

from subscribers import form_page, forms
from subscribers.models import Preference
from subscribers.selectors import form_state, mask_email
from subscribers.tokens import make_token
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import shown_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]
CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')


def template_page(subscriber, confirm, shown, path):
    state = form_state(subscriber_id=subscriber.pk)
    return render_to_string(
        "subscribers/preferences.html",
        {
            "fieldsets": form_page.fieldsets(state.specs, state.values),
            "has_interests": bool(state.specs),
            "masked_email": mask_email(subscriber.email),
            "first_name": subscriber.first_name,
            "confirm_form": forms.ConfirmEmailForm() if confirm else None,
            "csrf_token": "TOKEN",
            "shown": shown,
            "language_next": path,
        },
    )


@pytest.mark.parametrize("confirm", [False, True])
@pytest.mark.parametrize("first_name", ["Jane", "", "<b>Zoë</b> & {{ x }}"])
def test_it_serves_the_page_the_template_renders(client, confirm, first_name):
    interests = make_interests(count=8)
    member = make_subscriber(first_name=first_name, email="o'brien@example.org")
    for interest in interests[::3]:
        Preference.objects.create(subscriber=member, interest=interest, value=True)
    path = f"/p/{make_token(member)}/"
    with override_settings(PREFERENCES_CONFIRM_EMAIL=confirm):
        served = client.get(path).content.decode()
        shown = shown_in(served)
        expected = template_page(member, confirm, shown, path)
    assert CSRF_VALUE.sub(r'\1TOKEN"', served) == expected
    # The page carries what it shows, signed for this member's link.
    assert forms.shown_read(shown, subscriber_id=member.pk, token_version=member.token_version) == forms.Shown(
        frozenset(i.pk for i in interests), frozenset(i.pk for i in interests[::3])
    )


def test_it_gives_each_member_their_own_ticks_name_and_csrf_token(client):
    first, second = make_interests(count=2)
    jane = make_subscriber(first_name="Jane", email="jane@example.org")
    john = make_subscriber(first_name="John", email="john@example.org")
    Preference.objects.create(subscriber=jane, interest=first, value=True)
    Preference.objects.create(subscriber=john, interest=second, value=True)
    jane_page = client.get(f"/p/{make_token(jane)}/").content.decode()
    john_page = client.get(f"/p/{make_token(john)}/").content.decode()
    assert "Hello Jane." in jane_page and "j•••@example.org" in jane_page and "John" not in jane_page
    assert re.search(rf'name="interest_{first.pk}"[^>]*\schecked', jane_page)
    assert not re.search(rf'name="interest_{second.pk}"[^>]*\schecked', jane_page)
    assert re.search(rf'name="interest_{second.pk}"[^>]*\schecked', john_page)
    assert CSRF_VALUE.search(jane_page).group(0) != CSRF_VALUE.search(john_page).group(0)
    assert "data-pc" not in jane_page and "pc-slot" not in jane_page


def test_it_shows_a_form_without_interests(client):
    member = make_subscriber()
    response = client.get(f"/p/{make_token(member)}/")
    assert response.status_code == 200
    assert "There is nothing to choose here" in response.content.decode()
