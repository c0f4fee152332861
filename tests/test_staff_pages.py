"""Every staff page answers with one look: Django's admin with the staff styles, and the custom screens
with one trail of breadcrumbs (Home › app › list › screen). STAFF_PAGES and `staff_data` also serve the
browser checks of width and accessibility (tests/test_staff_pages_browser.py)."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from mailing.models import ApiKey, SavedTargetGroup
from mailing.services.api_keys import api_key_create
from mailing.services.target_groups import saved_target_group_save
from subscribers.models import Preference, PreferenceChange
from sync.models import MissingUdRow, SyncRun
from tests.factories import make_interests, make_subscriber

pytestmark = pytest.mark.django_db(databases=["default", "imis"])  # the dashboard asks iMIS for its health


def staff_data(user):
    """A little of everything a staff page lists: interests, members with choices and history, a failed
    change, runs, a missing UD row, a saved target group, an API key. Returns {name: object}."""
    interests = make_interests(count=7)
    member = make_subscriber(
        first_name="Grace", last_name="Hopper", full_name="Grace Hopper", email="grace.hopper@example.org"
    )
    for interest in interests[:3]:
        Preference.objects.create(subscriber=member, interest=interest, value=True, imis_value=True)
    change = PreferenceChange.objects.create(
        subscriber=member,
        interest=interests[0],
        new_value=False,
        source="admin",
        changed_by=user,
        note="phoned in: no newsletter",
        state="failed",
        attempts=3,
        last_error="iMIS refused the change: the member has no row in ud_EmailPrefs",
    )
    now = timezone.now()
    for kind in ("discover", "pull", "push"):
        SyncRun.objects.create(kind=kind, started_at=now, finished_at=now, ok=True, counts={"found": 7})
    MissingUdRow.objects.create(subscriber=member, table_name="UD_Topics", seen_at=now)
    saved = saved_target_group_save(
        group=SavedTargetGroup(name="News, no advocacy"), any_of=[interests[0].pk], none_of=[interests[2].pk]
    )
    api_key_create(name="Mailing system", scope=ApiKey.Scope.READ, links=False, created_by=user)
    return {"interest": interests[0], "member": member, "change": change, "saved": saved}


# (name, URL name, args from staff_data's objects): every staff page that has the admin's look.
STAFF_PAGES = [
    ("start page", "admin:index", None),
    ("interests", "admin:interests_remoteinterest_changelist", None),
    ("interest", "admin:interests_remoteinterest_change", "interest"),
    ("skipped fields", "admin:interests_skippedimisfield_changelist", None),
    ("members", "admin:subscribers_subscriber_changelist", None),
    ("member", "admin:subscribers_subscriber_change", "member"),
    ("changes", "admin:subscribers_preferencechange_changelist", None),
    ("change", "admin:subscribers_preferencechange_change", "change"),
    ("sync dashboard", "admin:sync_dashboard", None),
    ("sync runs", "admin:sync_syncrun_changelist", None),
    ("missing UD rows", "admin:sync_missingudrow_changelist", None),
    ("missing UD rows statement", "admin:sync_missingudrow_sql", "UD_Topics"),
    ("target groups", "admin:mailing_targetgroup_changelist", None),
    ("combine", "admin:mailing_targetgroup_combine", None),
    ("charts", "admin:mailing_targetgroup_charts", None),
    ("saved target groups", "admin:mailing_savedtargetgroup_changelist", None),
    ("saved target group", "admin:mailing_savedtargetgroup_change", "saved"),
    ("new saved target group", "admin:mailing_savedtargetgroup_add", None),
    ("API keys", "admin:mailing_apikey_changelist", None),
    ("new API key", "admin:mailing_apikey_add", None),
    ("webhook deliveries", "admin:mailing_webhookdelivery_changelist", None),
]
# The custom screens (not a list, form or the start page): the breadcrumbs come from one base template.
CUSTOM_SCREENS = {"sync dashboard", "missing UD rows statement", "combine", "charts"}


def staff_url(url_name, arg, objects):
    if arg is None:
        return reverse(url_name)
    found = objects.get(arg, arg)
    return reverse(url_name, args=[getattr(found, "pk", found)])


@pytest.fixture
def objects(admin_user):
    return staff_data(admin_user)


@pytest.mark.parametrize("name, url_name, arg", STAFF_PAGES, ids=[p[0] for p in STAFF_PAGES])
def test_every_staff_page_has_the_staff_look(admin_client, objects, name, url_name, arg):
    response = admin_client.get(staff_url(url_name, arg, objects))

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/staff/staff.css" in html
    assert '<div id="site-name"><a href="/admin/">Preference Center</a></div>' in html


@pytest.mark.parametrize("name, url_name, arg", [p for p in STAFF_PAGES if p[0] in CUSTOM_SCREENS])
def test_the_custom_screens_lead_back_through_their_app_and_list(admin_client, objects, name, url_name, arg):
    html = admin_client.get(staff_url(url_name, arg, objects)).content.decode()

    trail = re.search(r'<div class="breadcrumbs">(.*?)</div>', html, re.S).group(1)
    links = re.findall(r'<a href="([^"]+)">', trail)
    assert (
        links[0] == "/admin/" and re.fullmatch(r"/admin/\w+/", links[1]) and re.fullmatch(r"/admin/\w+/\w+/", links[2])
    )
    assert "<style>" not in html.split("</head>")[1]  # styles live in staff.css
