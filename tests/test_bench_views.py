"""The benchmark's bare view (bench/page.py) is never served unless BENCH_VIEWS is switched on."""

import pytest
from django.conf import settings


def test_it_keeps_the_bench_views_off_by_default():
    assert settings.BENCH_VIEWS is False


@pytest.mark.django_db
def test_it_does_not_route_the_bare_view_by_default(client):
    assert client.get("/bench/bare/").status_code == 404
