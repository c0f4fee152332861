"""Helpers for the members tests: their choices and their pages (rows come from tests/factories.py)."""

import re

from django.conf import settings

from subscribers.forms import shown_sign
from subscribers.models import Preference
from subscribers.selectors import form_state, member_form
from subscribers.tokens import make_token, read_token


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
