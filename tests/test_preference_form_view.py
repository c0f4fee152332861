"""The member's form at /p/<token>/ and the confirmation after saving, through the Django test client."""

import time

import pytest
from django.core import signing
from django.test import Client, override_settings
from django.utils import timezone

from interests.services.visibility import interests_set_visible
from subscribers import forms
from subscribers.models import Preference, PreferenceChange
from subscribers.selectors import form_state
from subscribers.services.preferences import preferences_save, subscribers_rotate_tokens
from subscribers.tokens import make_token
from sync.models import MissingUdRow
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import checked_ids, form_url, post, shown_in, shown_now, values_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


# --- GET ----------------------------------------------------------------------------------------------


def test_it_shows_the_visible_interests_under_their_headings_with_current_ticks(client, member):
    newsletter, events, advocacy = make_interests(count=3)
    hidden = make_interests(count=1, visible=False, start=3)[0]
    Preference.objects.create(subscriber=member, interest=events, value=True, imis_value=True)

    response = client.get(form_url(member))

    assert response.status_code == 200
    html = response.content.decode()
    assert checked_ids(html) == {events.pk}
    assert "Monthly newsletter" in html and "Events and conferences" in html and hidden.prompt not in html
    assert html.index("<legend>News</legend>") < html.index("Monthly newsletter") < html.index("Events and")
    assert html.index("Events and") < html.index("<legend>Advocacy</legend>") < html.index("Advocacy alerts")
    assert "News from the association, once a month" in html  # the description
    assert f'<label for="id_interest_{newsletter.pk}"' in html  # labels bound to the inputs
    assert "j•••@example.org" in html and "jane.doe" not in html
    assert 'href="/lost-link/"' in html  # not you?
    assert 'value="untick_all"' in html


def test_it_follows_the_staff_order(client, member):
    first, second = make_interests(count=2)
    first.position, second.position = 20, 10
    first.save(update_fields=["position"])
    second.save(update_fields=["position"])
    html = client.get(form_url(member)).content.decode()
    assert html.index(second.prompt) < html.index(first.prompt)


def test_it_reflects_a_relabelled_interest_at_once(client, member):
    (newsletter,) = make_interests(count=1)
    client.get(form_url(member))
    newsletter.label = "The Monthly Bulletin"
    newsletter.save(update_fields=["label"])
    assert "The Monthly Bulletin" in client.get(form_url(member)).content.decode()


def test_it_escapes_staff_text(client, member):
    (newsletter,) = make_interests(count=1)
    newsletter.group = "{{ 7|add:1 }} <b>x</b>"
    newsletter.description = "<script>alert(1)</script>"
    newsletter.save(update_fields=["group", "description"])
    html = client.get(form_url(member)).content.decode()
    assert "<script>alert(1)" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;" in html and ">8<" not in html


@pytest.mark.parametrize("interest_count", [3, 20])
def test_it_answers_a_get_in_a_fixed_number_of_queries(client, member, interest_count, django_assert_max_num_queries):
    interests = make_interests(count=interest_count)
    Preference.objects.create(subscriber=member, interest=interests[1], value=True)
    url = form_url(member)
    client.get(url)  # the markup cache is warm from here on
    with django_assert_max_num_queries(3):
        response = client.get(url)
    assert checked_ids(response.content.decode()) == {interests[1].pk}


def test_it_never_writes_on_get(client, member):
    make_interests(count=3)
    client.get(form_url(member))
    client.get("/saved/")
    client.get(form_url(member) + "one-click")
    assert not Preference.objects.exists() and not PreferenceChange.objects.exists()


def test_it_sets_privacy_headers(client, member):
    make_interests(count=1)
    response = client.get(form_url(member))
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["X-Robots-Tag"].startswith("noindex")
    assert response["Referrer-Policy"] == "strict-origin"  # the token never leaves the site
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert '<meta name="robots" content="noindex' in response.content.decode()


# --- bad links ----------------------------------------------------------------------------------------


def test_it_answers_a_tampered_link_with_a_friendly_404_without_a_query(client, member, django_assert_num_queries):
    token = make_token(member)
    client.get("/lost-link/")  # the association's brand is cached from here on, as on any live site
    with django_assert_num_queries(0):
        response = client.get(f"/p/{token[:-3]}xyz/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "This link does not work any more" in html and 'action="/lost-link/"' in html
    assert response["Cache-Control"] == "no-store, private" or "no-store" in response["Cache-Control"]


def test_it_refuses_a_rotated_link(client, member):
    make_interests(count=1)
    url = form_url(member)
    subscribers_rotate_tokens(subscriber_ids=[member.pk])
    assert client.get(url).status_code == 404
    assert post(client, url).status_code == 404
    member.refresh_from_db()
    assert client.get(form_url(member)).status_code == 200


def test_it_refuses_the_link_of_an_unknown_member(client):
    ghost = make_subscriber()
    url = form_url(ghost)
    ghost.delete()
    assert client.get(url).status_code == 404


# --- POST ---------------------------------------------------------------------------------------------


def test_it_saves_and_redirects_to_a_confirmation_of_what_changed(
    client, member, django_capture_on_commit_callbacks, pushes_recorded
):
    newsletter, events, advocacy = make_interests(count=3)
    Preference.objects.create(subscriber=member, interest=advocacy, value=True, imis_value=True)
    url = form_url(member)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, url, [newsletter, events], action="save")

    assert response.status_code == 302 and response["Location"] == "/saved/"
    assert values_of(member) == {newsletter.pk: True, events.pk: True, advocacy.pk: False}
    changes = PreferenceChange.objects.filter(subscriber=member)
    assert changes.count() == 3 and {c.source for c in changes} == {"form"}
    change = changes.get(interest=newsletter)
    assert change.user_agent == "TestBrowser/1.0" and change.ip_address == "198.51.100.0"
    assert change.label_shown.startswith("Monthly newsletter")
    assert pushes_recorded == [True]  # the push to iMIS is asked for once, after the save has committed (its signal)

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and "Your choices are saved" in html
    received = html[html.index("You will now receive") : html.index("You will no longer receive")]
    assert "Monthly newsletter" in received and "Events and conferences" in received
    assert "Advocacy alerts" in html[html.index("You will no longer receive") :]
    assert "no-store" in page["Cache-Control"]

    assert checked_ids(client.get(url).content.decode()) == {newsletter.pk, events.pk}


def test_it_says_nothing_changed_and_writes_no_history(client, member):
    newsletter, events = make_interests(count=2)
    Preference.objects.create(subscriber=member, interest=events, value=True, imis_value=True)
    response = post(client, form_url(member), [events], action="save")
    assert response.status_code == 302
    assert not PreferenceChange.objects.exists()
    html = client.get(response["Location"]).content.decode()
    assert "Nothing to save" in html


def test_it_unticks_everything_with_the_untick_all_button(client, member):
    interests = make_interests(count=3)
    for interest in interests:
        Preference.objects.create(subscriber=member, interest=interest, value=True, imis_value=True)
    response = post(client, form_url(member), interests[:1], action="untick_all")
    assert response.status_code == 302
    assert set(values_of(member).values()) == {False}
    assert PreferenceChange.objects.filter(new_value=False, source="form").count() == 3


def test_it_refuses_an_interest_that_is_not_on_the_form(client, member):
    (newsletter,) = make_interests(count=1)
    (hidden,) = make_interests(count=1, visible=False, start=1)
    response = post(client, form_url(member), [newsletter, hidden])
    assert response.status_code == 400
    assert "not on this page" in response.content.decode()
    assert not Preference.objects.exists() and not PreferenceChange.objects.exists()


@pytest.mark.parametrize(
    "garbage",
    [
        {"interest_{pk}": "yes please"},
        {"interest_999999": "on"},
        {"favourite_colour": "blue"},
        {"action": "delete_everything"},
    ],
)
def test_it_answers_garbage_with_400_and_saves_nothing(client, member, garbage):
    (newsletter,) = make_interests(count=1)
    data = {key.format(pk=newsletter.pk): value for key, value in garbage.items()}
    response = client.post(form_url(member), data)
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    assert not Preference.objects.exists() and not PreferenceChange.objects.exists()


def test_it_requires_the_csrf_token(member):
    (newsletter,) = make_interests(count=1)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(form_url(member), {f"interest_{newsletter.pk}": "on"})
    assert response.status_code == 403
    assert not Preference.objects.exists()


@pytest.mark.parametrize("interest_count", [3, 20])
def test_it_saves_in_a_fixed_number_of_queries(client, member, interest_count, django_assert_max_num_queries):
    interests = make_interests(count=interest_count)
    Preference.objects.create(subscriber=member, interest=interests[0], value=True)
    url = form_url(member)
    shown = shown_in(client.get(url).content.decode())
    with django_assert_max_num_queries(2):  # the member with the interests on the form, the save's one statement
        response = post(client, url, interests[1:], shown=shown)  # every interest changes
    assert response.status_code == 302
    assert PreferenceChange.objects.count() == interest_count


# --- forwarded mail: confirm the address --------------------------------------------------------------


@override_settings(PREFERENCES_CONFIRM_EMAIL=True)
def test_it_asks_for_the_address_and_saves_when_it_matches(client, member):
    (newsletter,) = make_interests(count=1)
    url = form_url(member)
    assert 'name="confirm_email"' in client.get(url).content.decode()
    response = post(client, url, [newsletter], confirm_email="  Jane.DOE@Example.org ")
    assert response.status_code == 302
    assert values_of(member) == {newsletter.pk: True}


@override_settings(PREFERENCES_CONFIRM_EMAIL=True)
@pytest.mark.parametrize("typed", ["someone.else@example.org", "", "not an address"])
def test_it_saves_nothing_when_the_address_is_wrong(client, member, typed):
    newsletter, events = make_interests(count=2)
    response = post(client, form_url(member), [newsletter], confirm_email=typed)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert checked_ids(html) == {newsletter.pk}  # what they ticked is kept for the next try
    assert not Preference.objects.exists() and not PreferenceChange.objects.exists()


# --- rate limit ---------------------------------------------------------------------------------------


@override_settings(PREFERENCES_RATE_LIMIT="3/m")
def test_it_limits_requests_per_ip_with_a_friendly_429(client, member):
    make_interests(count=1)
    url = form_url(member)
    for _ in range(3):
        assert client.get(url, REMOTE_ADDR="192.0.2.1").status_code == 200
    limited = client.get(url, REMOTE_ADDR="192.0.2.1")
    assert limited.status_code == 429 and "Too many requests" in limited.content.decode()
    assert limited["Retry-After"] == "60"
    assert "no-store" in limited["Cache-Control"]
    assert client.get(url, REMOTE_ADDR="192.0.2.2").status_code == 200  # another visitor


# --- a save applies only what the member changed on the page they saw -----------------------------------


def set_elsewhere(member, wanted):
    """A change made while the member's page was open: another tab, staff, the API."""
    preferences_save(subscriber=member, wanted=wanted, source=PreferenceChange.Source.API)


def test_it_never_writes_back_a_box_the_member_did_not_touch_on_a_stale_page(client, member):
    newsletter, events, advocacy = make_interests(count=3)
    Preference.objects.create(subscriber=member, interest=newsletter, value=True, imis_value=True)
    url = form_url(member)
    page = client.get(url).content.decode()  # shows newsletter on, events off
    assert checked_ids(page) == {newsletter.pk}
    set_elsewhere(member, {newsletter.pk: False, events.pk: True})

    response = post(client, url, [newsletter], shown=shown_in(page))  # sent as shown: nothing touched

    assert response.status_code == 302
    assert values_of(member) == {newsletter.pk: False, events.pk: True}
    assert not PreferenceChange.objects.filter(source="form").exists()
    assert "Nothing to save" in client.get(response["Location"]).content.decode()


def test_it_writes_only_the_box_the_member_changed_on_a_stale_page(client, member):
    newsletter, events, advocacy = make_interests(count=3)
    Preference.objects.create(subscriber=member, interest=newsletter, value=True, imis_value=True)
    url = form_url(member)
    page = client.get(url).content.decode()
    set_elsewhere(member, {newsletter.pk: False, events.pk: True})

    response = post(client, url, [newsletter, advocacy], shown=shown_in(page))  # ticked advocacy only

    assert response.status_code == 302
    assert values_of(member) == {newsletter.pk: False, events.pk: True, advocacy.pk: True}
    assert list(PreferenceChange.objects.filter(source="form").values_list("interest_id", "new_value")) == [
        (advocacy.pk, True)
    ]


def test_it_never_writes_an_interest_the_page_did_not_show(client, member):
    """An interest shown again (or added) after the page was opened is not on it: the member's save leaves it
    as it is, rather than reading its absent box as "off"."""
    newsletter, events = make_interests(count=2)
    Preference.objects.create(subscriber=member, interest=events, value=True, imis_value=True)
    interests_set_visible(interests=type(events).objects.filter(pk=events.pk), visible=False)
    url = form_url(member)
    page = client.get(url).content.decode()
    assert f"interest_{events.pk}" not in page
    interests_set_visible(interests=type(events).objects.filter(pk=events.pk), visible=True)

    assert post(client, url, [newsletter], shown=shown_in(page)).status_code == 302

    assert values_of(member) == {newsletter.pk: True, events.pk: True}


def test_it_unticks_everything_from_a_stale_page_with_the_untick_all_button(client, member):
    newsletter, events = make_interests(count=2)
    url = form_url(member)
    page = client.get(url).content.decode()  # nothing on
    set_elsewhere(member, {events.pk: True})
    assert post(client, url, [], shown=shown_in(page), action="untick_all").status_code == 302
    assert values_of(member) == {events.pk: False}  # the member's intent: everything off


def signed_long_ago(value):
    class LongAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - forms.SHOWN_MAX_AGE - 60)

    return LongAgo(salt=forms.SHOWN_SALT).sign_object(value)


@pytest.mark.parametrize("how", ["missing", "garbage", "another member", "old link version", "other salt", "too old"])
def test_it_refuses_a_missing_or_forged_shown_field_and_saves_nothing(client, member, how):
    (newsletter,) = make_interests(count=1)
    other = make_subscriber()
    state = form_state(subscriber_id=member.pk)
    shown = {
        "missing": False,
        "garbage": "not-signed",
        "another member": shown_now(form_url(other)),
        "old link version": forms.shown_sign(
            subscriber_id=member.pk, token_version=member.token_version - 1, state=state
        ),
        "other salt": signing.dumps([member.pk, member.token_version, [newsletter.pk], []], salt="another"),
        "too old": signed_long_ago([member.pk, member.token_version, [newsletter.pk], []]),
    }[how]

    response = post(client, form_url(member), [newsletter], shown=shown)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html and "Please open it again" in html
    assert not Preference.objects.exists() and not PreferenceChange.objects.exists()


@override_settings(PREFERENCES_CONFIRM_EMAIL=True)
def test_it_keeps_the_page_it_first_showed_through_a_failed_confirmation(client, member):
    newsletter, events = make_interests(count=2)
    url = form_url(member)
    first = shown_in(client.get(url).content.decode())
    refused = post(client, url, [newsletter], shown=first, confirm_email="someone.else@example.org")
    assert refused.status_code == 400 and shown_in(refused.content.decode()) == first
    set_elsewhere(member, {events.pk: True})

    again = post(client, url, [newsletter], shown=first, confirm_email="jane.doe@example.org")

    assert again.status_code == 302
    assert values_of(member) == {newsletter.pk: True, events.pk: True}


# --- the saved page promises only what can happen -------------------------------------------------------


def held_part(html):
    start = html.index('id="held"')
    return html[start : html.index("</div>", start)]


def test_it_never_promises_that_a_choice_reaches_imis_without_the_members_ud_row(client, member):
    newsletter, events, advocacy, policy = make_interests(count=4)  # policy is in UD_Topics, the others ud_EmailPrefs
    MissingUdRow.objects.create(subscriber=member, table_name="ud_EmailPrefs", seen_at=timezone.now())
    url = form_url(member)

    both = client.get(post(client, url, [newsletter, policy])["Location"]).content.decode()
    held = held_part(both)
    assert "Monthly newsletter" in held and "Policy updates" not in held
    assert "it can reach our member records only once our staff have fixed your record" in held
    assert "Your other changes reach our member records within a few minutes" in both

    only_held = client.get(post(client, url, [newsletter, policy, events])["Location"]).content.decode()
    assert "Events and conferences" in held_part(only_held)
    assert "within a few minutes" not in only_held

    fine = client.get(post(client, url, [events, newsletter])["Location"]).content.decode()  # policy off
    assert 'id="held"' not in fine and "Your changes reach our member records within a few minutes" in fine
