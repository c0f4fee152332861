"""iMIS unreachable: the gateway says so in a way callers can retry, and the health check reports it."""

import pytest
from django.db import connections

from preference_center import imis


@pytest.fixture
def dead_imis(django_db_blocker):
    """An `imis_down` alias pointing at a port where nothing listens (no test database behind it)."""
    config = {**connections["imis"].settings_dict, "HOST": "127.0.0.1", "PORT": "1", "OPTIONS": {"connect_timeout": 2}}
    connections.settings["imis_down"] = config
    with django_db_blocker.unblock():
        yield "imis_down"
    connections["imis_down"].close()
    del connections.settings["imis_down"]


def test_it_raises_imis_unavailable_when_the_server_is_down(dead_imis):
    with pytest.raises(imis.ImisUnavailable):
        list(imis.iter_roster(using=dead_imis))


def test_it_reports_unreachable_in_the_health_check(dead_imis):
    health = imis.health_check(using=dead_imis)
    assert not health.reachable and not health.ok
    assert health.summary.startswith("unreachable")
