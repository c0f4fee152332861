"""Members use the form while iMIS is unreachable: the page and the save never need iMIS; the change waits
in the outbox, pending with the reason, and nothing is lost."""

import pytest
from django.db import connections

from subscribers.models import PreferenceChange
from subscribers.tokens import make_token
from tests.factories import make_interests, make_subscriber
from tests.members_helpers import shown_in, values_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def imis_down(settings, django_db_blocker):
    """The app's iMIS alias points at a port where nothing listens."""
    config = {**connections["imis"].settings_dict, "HOST": "127.0.0.1", "PORT": "1", "OPTIONS": {"connect_timeout": 2}}
    connections.settings["imis_down"] = config
    settings.IMIS_DB_ALIAS = "imis_down"
    with django_db_blocker.unblock():
        yield
    connections["imis_down"].close()
    del connections.settings["imis_down"]


def test_it_shows_and_saves_the_form_and_keeps_the_change_pending(
    client, imis_down, django_capture_on_commit_callbacks
):
    newsletter, events = make_interests(count=2)
    member = make_subscriber()
    url = f"/p/{make_token(member)}/"

    page = client.get(url)
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: the push is tried at once
        data = {f"interest_{newsletter.pk}": "on", "action": "save", "shown": shown_in(page.content.decode())}
        response = client.post(url, data)

    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert values_of(member) == {newsletter.pk: True}  # events: no row, off (rows are sparse)
    change = PreferenceChange.objects.get(subscriber=member)
    assert change.state == PreferenceChange.State.PENDING  # waits for iMIS, with the reason and a retry time
    assert change.attempts == 1 and change.last_error.startswith("iMIS unavailable")
    assert change.next_attempt_at is not None
