"""The benchmark's bare view (bench/page.py) is routed by the bench's own settings, never by production's URLs."""

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve


def test_it_does_not_route_the_bare_view_in_production_urls():
    assert settings.ROOT_URLCONF == "preference_center.urls"
    with pytest.raises(Resolver404):
        resolve("/bench/bare/", urlconf="preference_center.urls")


@pytest.mark.django_db
def test_it_answers_not_found_for_the_bare_view(client):
    assert client.get("/bench/bare/").status_code == 404


def test_it_routes_the_bare_view_in_the_bench_urls_only():
    assert resolve("/bench/bare/", urlconf="bench.bare_urls").url_name == "bench_bare"
