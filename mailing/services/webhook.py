"""The webhook: one signed JSON event per PreferenceChange, POSTed to MAILING_WEBHOOK_URL.

The PreferenceChange rows are the outbox here too: `webhook_collect` gives every recent change without a
delivery row one (idempotent, safe to run anywhere, any number of times), and `webhook_deliver` claims a
due delivery with a lease, POSTs it and records the outcome with a backoff. Nothing here runs inside the
member's save: a dead receiver, or Redis, costs the member nothing.

Signature: `X-Webhook-Signature: sha256=<hex>` is HMAC-SHA256, keyed with MAILING_WEBHOOK_SECRET, of
`<X-Webhook-Timestamp>.<raw body>`. Receivers recompute it, compare in constant time, and refuse
timestamps older than a few minutes (replays). `X-Webhook-Id` (the change's UUID) makes retries
detectable: the same event may arrive twice, never with a different meaning.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from preference_center.celery import app
from preference_center.lib.backoff import exponential_backoff
from subscribers.models import PreferenceChange

from ..models import WebhookDelivery

logger = logging.getLogger(__name__)

# Enqueued by name: mailing.tasks imports this module (the task calls webhook_sweep).
WEBHOOK_SWEEP_TASK = "mailing.tasks.webhook_sweep"

EVENT_TYPE = "preference.changed"
LEASE = timedelta(minutes=5)  # a claimed delivery comes back after this if its worker died
COLLECT_BATCH = 1000
USER_AGENT = "preference-center-webhook/1"


def webhook_configured() -> bool:
    return bool(settings.MAILING_WEBHOOK_URL and settings.MAILING_WEBHOOK_SECRET)


def backoff(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most 6 hours."""
    return timedelta(seconds=exponential_backoff(attempts, base=30, cap=6 * 3600))


def sign(*, body: bytes, timestamp: int, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def event_payload(change: PreferenceChange) -> dict:
    """The event of one change. Carries the member's iMIS ID and address (the mailing system's key)."""
    return {
        "id": str(change.uuid),
        "type": EVENT_TYPE,
        "created_at": change.created_at.isoformat(),
        "member": {"imis_id": change.subscriber.imis_id, "email": change.subscriber.email},
        "interest": {
            "id": change.interest_id,
            "label": change.interest.display_label,
            "table": change.interest.table_name,
            "field": change.interest.field_name,
        },
        "old_value": change.old_value,
        "new_value": change.new_value,
        "source": change.source,
    }


def webhook_collect(*, limit: int = 5000) -> list[int]:
    """Give each recent change (MAILING_WEBHOOK_LOOKBACK_HOURS, of MAILING_WEBHOOK_SOURCES) without a
    delivery a pending one, and return the ids of up to `limit` deliveries due now, oldest first.
    Returns nothing when no webhook is configured."""
    if not webhook_configured():
        return []
    now = timezone.now()
    fresh = PreferenceChange.objects.filter(
        created_at__gte=now - timedelta(hours=settings.MAILING_WEBHOOK_LOOKBACK_HOURS),
        source__in=settings.MAILING_WEBHOOK_SOURCES,
        webhook_delivery__isnull=True,
    ).order_by("id")
    while True:
        ids = list(fresh.values_list("id", flat=True)[:COLLECT_BATCH])
        if not ids:
            break
        WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(change_id=pk, next_attempt_at=now) for pk in ids], ignore_conflicts=True
        )
        if len(ids) < COLLECT_BATCH:
            break
    due = WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now)
    return list(due.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    retry_in: float | None = None  # seconds until the next attempt; None: done or given up


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is a misconfigured URL: report it
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(body: bytes, headers: dict) -> tuple[int | None, str]:
    """POST the body; returns (HTTP status or None, error text or '')."""
    request = urllib.request.Request(settings.MAILING_WEBHOOK_URL, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.MAILING_WEBHOOK_TIMEOUT) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"[:500]


def webhook_deliver(*, delivery_id: int) -> DeliveryResult | None:
    """POST one due delivery. None: not ours to send (already delivered, not due, claimed by another
    worker, or no webhook configured). A 2xx answer delivers it; anything else schedules a retry with
    backoff, up to MAILING_WEBHOOK_MAX_ATTEMPTS attempts, then marks it failed."""
    if not webhook_configured():
        return None
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("change__subscriber", "change__interest").get(pk=delivery_id)
    body = json.dumps(event_payload(delivery.change), separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    status, error = _post(
        body,
        {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Webhook-Event": EVENT_TYPE,
            "X-Webhook-Id": str(delivery.change.uuid),
            "X-Webhook-Timestamp": str(timestamp),
            "X-Webhook-Signature": sign(body=body, timestamp=timestamp, secret=settings.MAILING_WEBHOOK_SECRET),
        },
    )
    delivery.attempts += 1
    delivery.last_status = status
    finished = timezone.now()
    if status is not None and 200 <= status < 300:
        delivery.state, delivery.delivered_at, delivery.last_error = WebhookDelivery.State.DONE, finished, ""
        delivery.save(update_fields=["state", "attempts", "last_status", "last_error", "delivered_at"])
        return DeliveryResult(delivered=True)
    delivery.last_error = error or f"HTTP {status}"
    if delivery.attempts >= settings.MAILING_WEBHOOK_MAX_ATTEMPTS:
        delivery.state = WebhookDelivery.State.FAILED
        delivery.save(update_fields=["state", "attempts", "last_status", "last_error"])
        logger.warning("webhook delivery %s failed for good after %s attempts", delivery.pk, delivery.attempts)
        return DeliveryResult(delivered=False)
    wait = backoff(delivery.attempts)
    delivery.next_attempt_at = finished + wait
    delivery.save(update_fields=["attempts", "last_status", "last_error", "next_attempt_at"])
    logger.info("webhook delivery %s: %s; retry in %ss", delivery.pk, delivery.last_error, int(wait.total_seconds()))
    return DeliveryResult(delivered=False, retry_in=wait.total_seconds())


def webhook_retry(*, delivery_ids) -> int:
    """Staff: send failed (or waiting) deliveries again now, with a fresh count of attempts."""
    return (
        WebhookDelivery.objects.filter(pk__in=list(delivery_ids))
        .exclude(state=WebhookDelivery.State.DONE)
        .update(state=WebhookDelivery.State.PENDING, attempts=0, next_attempt_at=timezone.now())
    )


def webhook_enqueue_on_commit() -> None:
    """After the current transaction commits, ask a worker to send the new events. Never raises, never
    waits for a broker that is down: the beat sweep sends them within the minute."""
    if not webhook_configured():
        return

    def send():
        try:
            app.tasks[WEBHOOK_SWEEP_TASK].apply_async(retry=False)
        except Exception as exc:  # broker down
            logger.warning("webhook sweep not enqueued (%s); the beat sweep will send the events", type(exc).__name__)

    transaction.on_commit(send)
