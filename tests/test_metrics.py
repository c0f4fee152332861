"""Prometheus metrics at /metrics: behind a bearer token, and figures that move with a real push to the
PostgreSQL iMIS replica (read from the database at scrape time)."""

import datetime
import threading

import pytest
from django.db import connections
from django.test import override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from mailing.models import WebhookDelivery
from subscribers.models import PreferenceChange
from sync.models import MissingUdRow, SyncRun
from sync.services import push
from tests.factories import make_interest, sandbox_subscriber
from tests.sync_helpers import member_saves
from tests.workers import wait_until

pytestmark = pytest.mark.django_db(databases=["default", "imis"])

TOKEN = "a-long-random-metrics-token"
NO_EMAILPREFS_ROW = 16  # the sandbox gives every 17th member no ud_EmailPrefs row


def scrape(client):
    with override_settings(METRICS_TOKEN=TOKEN):
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(figures, name, **labels):
    return figures.get((name, tuple(sorted(labels.items()))))


def test_it_answers_404_without_a_token_setting(client):
    with override_settings(METRICS_TOKEN=""):
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_it_refuses_a_scrape_without_the_right_bearer_token(client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    with override_settings(METRICS_TOKEN=TOKEN):
        response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert b"prefcenter" not in response.content


@pytest.mark.django_db(databases=["default", "imis"], transaction=True)
def test_its_figures_move_with_a_real_push(client, imis_pg):
    interest = make_interest()
    for i in (0, 1, 2, NO_EMAILPREFS_ROW):
        PreferenceChange.objects.create(
            subscriber=sandbox_subscriber(i), interest=interest, old_value=False, new_value=True, source="form"
        )  # pending: no push sent
    PreferenceChange.objects.update(created_at=timezone.now() - datetime.timedelta(seconds=90))

    before = scrape(client)
    assert value(before, "prefcenter_changes", state="pending") == 4
    assert value(before, "prefcenter_changes", state="failed") == 0
    assert 90 <= value(before, "prefcenter_oldest_pending_change_age_seconds") < 120
    assert value(before, "prefcenter_save_to_imis_lag_seconds_gcount") == 0
    assert value(before, "prefcenter_sync_last_success_timestamp_seconds", kind="push") is None

    # iMIS holds the push mid-way: another session keeps the UD table locked while the push runs.
    blocker = connections.create_connection("imis")
    blocker.set_autocommit(False)
    blocker.cursor().execute('LOCK TABLE "ud_EmailPrefs" IN ACCESS EXCLUSIVE MODE')
    pushing = threading.Thread(target=_push_in_a_worker_thread)
    pushing.start()
    try:
        during = wait_until(lambda: _sending(scrape(client), 4), 30, "the push to claim the changes")
        assert value(during, "prefcenter_changes", state="pending") == 0
        assert value(during, "prefcenter_oldest_pending_change_age_seconds") >= 90  # not in iMIS yet
    finally:
        blocker.rollback()
        blocker.close()
        pushing.join(60)

    after = scrape(client)
    assert value(after, "prefcenter_changes", state="sending") == 0
    assert value(after, "prefcenter_changes", state="failed") == 1  # the member without a UD row
    assert value(after, "prefcenter_oldest_pending_change_age_seconds") == 0
    assert value(after, "prefcenter_save_to_imis_lag_seconds_gcount") == 3
    assert value(after, "prefcenter_save_to_imis_lag_seconds_bucket", le="60.0") == 0
    assert value(after, "prefcenter_save_to_imis_lag_seconds_bucket", le="300.0") == 3
    assert 270 <= value(after, "prefcenter_save_to_imis_lag_seconds_gsum") < 360
    assert value(after, "prefcenter_push_changes_recent", outcome="done") == 3
    assert value(after, "prefcenter_push_changes_recent", outcome="failed") == 1


def _sending(figures, n):
    return figures if value(figures, "prefcenter_changes", state="sending") == n else None


def _push_in_a_worker_thread():
    try:
        push.changes_push()
    finally:
        connections.close_all()


def test_it_shows_the_pushes_by_outcome_and_the_last_successful_runs(client):
    now = timezone.now()
    for counts, ok in [({"done": 5, "failed": 1}, False), ({"done": 2, "not_needed": 1}, True)]:
        SyncRun.objects.create(
            kind=SyncRun.Kind.PUSH,
            started_at=now - datetime.timedelta(seconds=3),
            finished_at=now,
            ok=ok,
            counts=counts,
        )
    SyncRun.objects.create(kind=SyncRun.Kind.PUSH, started_at=now - datetime.timedelta(hours=2), counts={"done": 50})
    pulled_at = now - datetime.timedelta(minutes=7)
    SyncRun.objects.create(
        kind=SyncRun.Kind.PULL, started_at=pulled_at - datetime.timedelta(seconds=42), finished_at=pulled_at, ok=True
    )
    SyncRun.objects.create(kind=SyncRun.Kind.PULL, started_at=now, finished_at=now, ok=False, error="iMIS down")

    figures = scrape(client)
    assert value(figures, "prefcenter_push_changes_recent", outcome="done") == 7  # not the run of 2 hours ago
    assert value(figures, "prefcenter_push_changes_recent", outcome="failed") == 1
    assert value(figures, "prefcenter_push_changes_recent", outcome="not_needed") == 1
    assert value(figures, "prefcenter_sync_last_success_timestamp_seconds", kind="pull") == pulled_at.timestamp()
    assert value(figures, "prefcenter_sync_last_success_duration_seconds", kind="pull") == 42
    assert value(figures, "prefcenter_sync_last_success_timestamp_seconds", kind="discover") is None


def test_it_shows_the_webhook_backlog_and_members_without_ud_rows(client, imis_pg):
    interest = make_interest()
    changes = [member_saves(sandbox_subscriber(i), interest, True) for i in range(3)]
    old = timezone.now() - datetime.timedelta(minutes=20)
    for change, state in zip(changes, ["pending", "pending", "failed"], strict=True):
        WebhookDelivery.objects.create(change=change, state=state, next_attempt_at=old)
    WebhookDelivery.objects.filter(change=changes[0]).update(created_at=old)
    for i in (3, 4):
        MissingUdRow.objects.create(subscriber=sandbox_subscriber(i), table_name="ud_EmailPrefs", seen_at=old)

    figures = scrape(client)
    assert value(figures, "prefcenter_webhook_deliveries", state="pending") == 2
    assert value(figures, "prefcenter_webhook_deliveries", state="failed") == 1
    assert 20 * 60 <= value(figures, "prefcenter_webhook_oldest_pending_age_seconds") < 21 * 60
    assert value(figures, "prefcenter_members_without_ud_row", table="ud_EmailPrefs") == 2


def test_it_counts_http_requests_by_view_and_status(client):
    def served(figures):
        return value(figures, "prefcenter_http_requests_total", view="lost_link", method="GET", status="200") or 0

    first = served(scrape(client))
    for _ in range(3):
        assert client.get("/lost-link/").status_code == 200
    client.get("/no-such-page/")
    figures = scrape(client)
    assert served(figures) == first + 3
    assert value(figures, "prefcenter_http_requests_total", view="other", method="GET", status="404") >= 1
