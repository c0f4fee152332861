"""Schemathesis generates requests from the OpenAPI schema (/api/schema/) and sends them to the Django WSGI
app in-process, with a valid read-write key: no request may cause a server error."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from mailing.models import ApiKey
from tests.factories import make_interests, make_subscriber
from tests.mailing_helpers import URLS, api_client

pytestmark = [pytest.mark.django_db, URLS]

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def raw_key():
    """Members and interests to find, and a read-write key; a rate limit the run cannot reach."""
    news, events, alerts = make_interests(count=3)
    make_subscriber(imis_id="1", on=[news, events])
    make_subscriber(imis_id="2", on=[alerts])
    make_subscriber(imis_id="00123", off=[news], exclude_mail=True)
    _, _, raw_key = api_client(scope=ApiKey.Scope.READ_WRITE)
    # The WSGI app closes the database connection after each request; the test's transaction lives on it.
    # Django's own test client does the same as this.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with override_settings(MAILING_API_RATE_LIMIT="100000/minute"):
            yield raw_key
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_it_answers_every_generated_request_without_a_server_error(case, raw_key):
    case.call_and_validate(headers={"Authorization": f"Bearer {raw_key}"}, checks=[not_a_server_error])
