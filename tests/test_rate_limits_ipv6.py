"""Rate limits count an IPv6 client by its /64 (one subscriber's network: its addresses are free to pick),
an IPv4 client by its address."""

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
PAGE = "/p/not-a-real-token/"  # counted like any personal page, before the link is read


@pytest.fixture
def fresh_cache():
    cache.clear()


def status_from(address):
    return Client(REMOTE_ADDR=address).get(PAGE).status_code


@override_settings(PREFERENCES_RATE_LIMIT="3/m")
def test_it_counts_every_address_of_one_ipv6_64_together():
    statuses = [status_from(f"2001:db8:1:2::{n:x}") for n in range(1, 5)]
    other_64 = status_from("2001:db8:1:3::1")

    assert statuses == [404, 404, 404, 429]
    assert other_64 == 404


@override_settings(PREFERENCES_RATE_LIMIT="3/m")
def test_it_counts_ipv4_per_address_and_mapped_ipv4_as_the_same_client():
    statuses = [status_from("192.0.2.7") for _ in range(3)] + [status_from("::ffff:192.0.2.7")]
    neighbour = status_from("192.0.2.8")

    assert statuses == [404, 404, 404, 429]
    assert neighbour == 404


@override_settings(PREFERENCES_RATE_LIMIT="3/m", CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR")
def test_it_counts_the_proxys_address_by_its_64_too():
    statuses = [
        Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"198.51.100.1, 2001:db8:9:9::{n}").get(PAGE).status_code
        for n in range(1, 5)
    ]

    assert statuses == [404, 404, 404, 429]
