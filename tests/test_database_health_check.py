"""The health check of our PostgreSQL connections (preference_center.lib.postgresql): a connection the server
closed is replaced before a request uses it, and checking a healthy one costs no round trip."""

import time

import psycopg
import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _reconnect_for_the_teardown():
    yield
    connection.close()  # the flush after the test needs a live connection


def terminate_our_backend():
    """As a database restart does to every connection; returns once the notice has reached us."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    params.pop("context", None), params.pop("cursor_factory", None), params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_healthy_connection_is_usable_without_a_query(monkeypatch):
    connection.ensure_connection()
    driver = connection.connection
    used = []
    # Django's own check runs SELECT 1 on a cursor of the driver's connection, past its query log: watch there.
    monkeypatch.setattr(driver, "cursor", lambda *args, **kwargs: used.append("cursor") or type(driver).cursor(driver))
    monkeypatch.setattr(driver, "execute", lambda *args, **kwargs: used.append("execute"))
    assert connection.is_usable()
    assert used == []


def test_a_connection_the_server_closed_is_not_usable():
    connection.ensure_connection()
    terminate_our_backend()
    assert not connection.is_usable()


def test_the_next_request_gets_a_new_connection_instead_of_an_error(client):
    connection.ensure_connection()
    connection.settings_dict["CONN_HEALTH_CHECKS"] = connection.health_check_enabled = True
    connection.settings_dict["CONN_MAX_AGE"] = 60
    try:
        old = connection.connection
        terminate_our_backend()
        connection.health_check_done = False  # a new request (Django resets it when one starts)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        assert connection.connection is not old
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = 0
