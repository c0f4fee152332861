"""Helpers for the members tests: interests as discovery would create them, subscribers, their pages."""

import itertools
import re

from django.conf import settings

from interests.models import RemoteInterest
from subscribers.forms import shown_sign
from subscribers.models import Preference, Subscriber
from subscribers.selectors import form_state, member_form
from subscribers.tokens import make_token, read_token

SANDBOX_INTERESTS = [
    ("ud_EmailPrefs", "NEWSLETTER", "Monthly newsletter", "News from the association, once a month", "News"),
    ("ud_EmailPrefs", "EVENTS", "Events and conferences", "Invitations to meetings and the annual conference", "News"),
    ("ud_EmailPrefs", "ADVOCACY_ALERT", "Advocacy alerts", "When legislation affects the profession", "Advocacy"),
    ("UD_Topics", "Policy_Updates", "Policy updates", "", "Advocacy"),
    ("UD_Topics", "Research_Digest", "Research digest", "A quarterly digest of new research", "Learning"),
    ("UD_Topics", "CE_Credits", "Continuing education", "Courses that earn CE credits", "Learning"),
    ("UD_Topics", "Volunteering", "Volunteer opportunities", "", ""),
]
_ids = itertools.count(1)


def make_interests(n=3, visible=True, start=0):
    """`n` interests: the sandbox's (from the `start`-th), then made-up ones (not in iMIS)."""
    made = []
    for position in range(start, start + n):
        if position < len(SANDBOX_INTERESTS):
            table, field, prompt, description, group = SANDBOX_INTERESTS[position]
        else:
            table, field, prompt, description, group = (
                "ud_Extra",
                f"TOPIC_{position:02d}",
                f"Topic {position}",
                f"About topic {position}",
                f"Group {position // 5}",
            )
        made.append(
            RemoteInterest.objects.create(
                table_name=table,
                field_name=field,
                prompt=prompt,
                description=description,
                group=group,
                position=(position + 1) * 10,
                visible=visible,
            )
        )
    return made


def make_subscriber(**kwargs):
    n = next(_ids)
    defaults = {
        "imis_id": f"9{n:05d}",
        "email": f"jane{n}@example.org",
        "first_name": "Jane",
        "last_name": "Doe",
        "full_name": "Jane Doe",
        "status": "A",
    }
    defaults.update(kwargs)
    return Subscriber.objects.create(**defaults)


def values_of(subscriber):
    return dict(Preference.objects.filter(subscriber=subscriber).values_list("interest_id", "value"))


# --- the member's pages -------------------------------------------------------------------------------


def form_url(subscriber):
    return f"/p/{make_token(subscriber)}/"


def checked_ids(html):
    """The interests ticked on a rendered member form."""
    return {int(pk) for pk in re.findall(r'name="interest_(\d+)"[^>]*\schecked', html)}


def shown_now(url):
    """The signed "shown" field a GET of the form at `url` would carry now (what the page shows)."""
    link = read_token(token_of(url))  # a rotated link: the page it showed before it was rotated
    state = form_state(subscriber_id=link.subscriber_id)
    return shown_sign(subscriber_id=link.subscriber_id, token_version=link.token_version, state=state)


def shown_in(html):
    """The signed "shown" field of a rendered member form."""
    return re.search(r'name="shown" value="([^"]*)"', html).group(1)


def post(client, url, interests_on=(), shown=None, **extra):
    """The member form's POST (the test client skips CSRF) with these interests ticked, sent from a page
    showing `shown` (default: the page as a GET would show it now, see shown_now; False: no such field)."""
    data = {f"interest_{i.pk}": "on" for i in interests_on}
    if shown is None:
        shown = shown_now(url)
    if shown is not False:
        data["shown"] = shown
    data.update(extra)
    return client.post(url, data, HTTP_USER_AGENT="TestBrowser/1.0", REMOTE_ADDR="198.51.100.23")


def token_of(url):
    """The token of an absolute personal link (form or one-click)."""
    return url.removeprefix(settings.SITE_URL).removeprefix("/p/").removesuffix("/one-click").rstrip("/")


def member_of(token):
    """The member a personal link opens the form of; None for a forged, rotated or unknown one."""
    loaded = member_form(token)
    return loaded[0] if loaded else None
