"""The webhook: a signed JSON event per change, POSTed to a real HTTP server on 127.0.0.1, retried with
backoff, and never in the way of the member's save."""

import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from django.utils import timezone

from mailing.models import ApiKey, WebhookDelivery
from mailing.services import webhook
from mailing.tasks import webhook_sweep
from mailing.tasks import webhook_sweep as _sweep_task
from subscribers.models import PreferenceChange
from subscribers.services.preferences import preferences_save
from tests.factories import make_interests, make_subscriber, signed_in, staff_user
from tests.mailing_helpers import URLS, api_client

pytestmark = [pytest.mark.django_db, URLS]

celery_app = _sweep_task.app  # the project's Celery app, the one the tasks send through

SECRET = "whsec-test-0123456789"


class Receiver:
    """A real HTTP server in a thread that records what it receives and answers the statuses it is given
    (then 200)."""

    def __init__(self):
        self.received, self.statuses = [], []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/preferences"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def events(self):
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.thread.start()
    with override_settings(MAILING_WEBHOOK_URL=receiver.url, MAILING_WEBHOOK_SECRET=SECRET):
        yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


def verify(headers, body):
    """What a receiver does: recompute the signature over `<timestamp>.<body>` with the shared secret."""
    timestamp = headers["X-Webhook-Timestamp"]
    expected = "sha256=" + hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Webhook-Signature"])


def form_save(subscriber, wanted):
    return preferences_save(subscriber=subscriber, wanted=wanted, source=PreferenceChange.Source.FORM)


def test_it_posts_one_signed_event_per_change(receiver):
    news, events = make_interests(count=2)
    subscriber = make_subscriber(imis_id="00042", on=[events], email="ann@example.org")
    changes = form_save(subscriber, {news.pk: True, events.pk: False})

    webhook_sweep.delay()

    assert len(receiver.received) == 2
    for headers, body in receiver.received:
        assert verify(headers, body)
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Webhook-Event"] == "preference.changed"
    by_interest = {event["interest"]["id"]: event for event in receiver.events()}
    news_change = next(c for c in changes if c.interest_id == news.pk)
    assert by_interest[news.pk] == {
        "id": str(news_change.uuid),
        "type": "preference.changed",
        "created_at": news_change.created_at.isoformat(),
        "member": {"imis_id": "00042", "email": "ann@example.org"},
        "interest": {"id": news.pk, "label": "Monthly newsletter", "table": "ud_EmailPrefs", "field": "NEWSLETTER"},
        "old_value": False,
        "new_value": True,
        "source": "form",
    }
    assert by_interest[events.pk]["new_value"] is False
    assert {headers["X-Webhook-Id"] for headers, _ in receiver.received} == {str(c.uuid) for c in changes}
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"done"}


def test_it_refuses_to_verify_a_tampered_body(receiver):
    [news] = make_interests(count=1)
    form_save(make_subscriber(imis_id="1"), {news.pk: True})

    webhook_sweep.delay()

    [(headers, body)] = receiver.received
    assert not verify(headers, body.replace(b'"new_value":true', b'"new_value":false'))


def test_it_sends_a_form_save_s_event_as_soon_as_it_commits(receiver, django_capture_on_commit_callbacks):
    [news] = make_interests(count=1)
    subscriber = make_subscriber(imis_id="8")

    with django_capture_on_commit_callbacks(execute=True):
        [change] = form_save(subscriber, {news.pk: True})

    [event] = receiver.events()  # no sweep needed
    assert event["id"] == str(change.uuid) and event["source"] == "form"


def api_turns_on(interest, capture_on_commit):
    """Member 7 turns `interest` on through the API (a read-write key), commit callbacks run."""
    client, _, _ = api_client(scope=ApiKey.Scope.READ_WRITE)
    with capture_on_commit(execute=True):
        return client.patch(
            "/api/v1/members/7/preferences/",
            {"preferences": [{"interest_id": interest.pk, "value": True}]},
            content_type="application/json",
        )


def test_it_sends_an_api_write_s_event_as_soon_as_it_commits(receiver, django_capture_on_commit_callbacks):
    [news] = make_interests(count=1)
    make_subscriber(imis_id="7")
    response = api_turns_on(news, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert [(e["member"]["imis_id"], e["source"], e["new_value"]) for e in receiver.events()] == [("7", "api", True)]


def test_it_sends_the_event_of_a_change_saved_on_its_own_when_it_commits(receiver, django_capture_on_commit_callbacks):
    [news] = make_interests(count=1)
    subscriber = make_subscriber(imis_id="8")

    with django_capture_on_commit_callbacks(execute=True):
        PreferenceChange.objects.create(
            subscriber=subscriber, interest=news, old_value=False, new_value=True, source="admin"
        )

    assert [e["source"] for e in receiver.events()] == ["admin"]


def test_it_retries_a_failed_delivery_with_backoff(receiver):
    [news] = make_interests(count=1)
    form_save(make_subscriber(imis_id="1"), {news.pk: True})
    receiver.statuses = [500, 503]

    webhook_sweep.delay()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status, delivery.last_error) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    first_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)

    webhook_sweep.delay()  # not due yet: nothing sent
    assert len(receiver.received) == 1

    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    webhook_sweep.delay()
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status) == (2, 503)
    assert timedelta(seconds=55) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=60)

    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    webhook_sweep.delay()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("done", 3, 200)
    assert len({headers["X-Webhook-Id"] for headers, _ in receiver.received}) == 1  # the same event, resent


@override_settings(MAILING_WEBHOOK_MAX_ATTEMPTS=2)
def test_it_gives_up_after_the_last_attempt_and_staff_can_send_it_again(receiver):
    [news] = make_interests(count=1)
    form_save(make_subscriber(imis_id="1"), {news.pk: True})
    receiver.statuses = [500, 500]

    webhook_sweep.delay()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    webhook_sweep.delay()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("failed", 2)

    webhook.webhook_retry(delivery_ids=[delivery.pk])
    webhook_sweep.delay()
    delivery.refresh_from_db()
    assert delivery.state == "done"


def test_it_treats_a_redirect_as_a_failure_not_a_delivery(receiver):
    [news] = make_interests(count=1)
    form_save(make_subscriber(imis_id="1"), {news.pk: True})
    receiver.statuses = [302]

    webhook_sweep.delay()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_status, delivery.last_error) == ("pending", 302, "HTTP 302")
    assert len(receiver.received) == 1


def test_it_sends_a_delivery_once_even_if_asked_twice(receiver):
    [news] = make_interests(count=1)
    form_save(make_subscriber(imis_id="1"), {news.pk: True})
    [delivery_id] = webhook.webhook_collect()

    first = webhook.webhook_deliver(delivery_id=delivery_id)
    second = webhook.webhook_deliver(delivery_id=delivery_id)

    assert first.delivered and second is None
    assert len(receiver.received) == 1


def test_it_keeps_the_member_s_save_when_the_receiver_is_down(django_capture_on_commit_callbacks):
    [news] = make_interests(count=1)
    subscriber = make_subscriber(imis_id="7")
    with override_settings(MAILING_WEBHOOK_URL=closed_port_url(), MAILING_WEBHOOK_SECRET=SECRET):
        response = api_turns_on(news, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert subscriber.preferences.get().value is True
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "pending" and delivery.last_status is None
    assert delivery.last_error.startswith("URLError: [Errno 111]")


@pytest.fixture
def redis_down():
    """Celery sends to a broker where nothing listens (tasks are no longer run in-process)."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, "redis://127.0.0.1:1/0"
    forget_connections()
    yield
    conf.task_always_eager, conf.broker_url = saved
    forget_connections()


def forget_connections():
    """Celery keeps its broker connection pool and producers: forget them (kombu keeps each pool, per URL)
    so that the next send uses the broker the conf names now."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_it_keeps_the_member_s_save_when_redis_is_down(receiver, redis_down, django_capture_on_commit_callbacks):
    [news] = make_interests(count=1)
    subscriber = make_subscriber(imis_id="7")
    response = api_turns_on(news, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert subscriber.preferences.get().value is True
    assert receiver.received == []
    # The beat sweep finds the change later, when Redis is back:
    assert webhook.webhook_collect() == list(WebhookDelivery.objects.values_list("pk", flat=True))


def test_it_does_nothing_without_a_configured_webhook():
    [news] = make_interests(count=1)
    form_save(make_subscriber(imis_id="1"), {news.pk: True})

    webhook_sweep.delay()

    assert webhook.webhook_collect() == []
    assert not WebhookDelivery.objects.exists()


@override_settings(MAILING_WEBHOOK_SOURCES=["form", "api"])
def test_it_sends_only_the_sources_it_is_told_to(receiver):
    [news] = make_interests(count=1)
    subscriber = make_subscriber(imis_id="1")
    preferences_save(subscriber=subscriber, wanted={news.pk: True}, source="imis")
    form_save(subscriber, {news.pk: False})

    webhook_sweep.delay()

    assert [e["source"] for e in receiver.events()] == ["form"]


@override_settings(MAILING_WEBHOOK_MAX_ATTEMPTS=1)
def test_only_staff_who_may_change_deliveries_send_them_again(receiver):
    [news] = make_interests(count=1)
    form_save(make_subscriber(imis_id="1"), {news.pk: True})
    receiver.statuses = [500]
    webhook_sweep.delay()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed"

    action = {"action": "retry", "_selected_action": [delivery.pk]}
    viewer = signed_in(staff_user("view_webhookdelivery"))
    viewer.post("/admin/mailing/webhookdelivery/", action)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", 1)

    operator = signed_in(staff_user("view_webhookdelivery", "change_webhookdelivery"))
    operator.post("/admin/mailing/webhookdelivery/", action)
    delivery.refresh_from_db()
    assert delivery.state == "done"
