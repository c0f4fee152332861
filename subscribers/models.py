import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


def mailable_q(prefix: str = "") -> Q:
    """Who may be offered links and counted in target groups: active (still in the iMIS roster), with an
    address, not excluded from mail, and with a Name.STATUS that LINK_STATUSES lists (empty: any status).
    `prefix` reaches the subscriber through a relation ("subscriber__")."""
    rule = Q(**{f"{prefix}active": True, f"{prefix}exclude_mail": False}) & ~Q(**{f"{prefix}email": ""})
    if settings.LINK_STATUSES:
        rule &= Q(**{f"{prefix}status__in": settings.LINK_STATUSES})
    return rule


class Subscriber(models.Model):
    """A contact from the iMIS `Name` table. Deactivated, never deleted, when it leaves the roster."""

    imis_id = models.CharField("ID in iMIS", max_length=10, unique=True)  # a string: '00123' != '123'
    email = models.CharField(max_length=100, blank=True, db_index=True)  # as in iMIS; may be malformed
    first_name = models.CharField(max_length=20, blank=True)
    last_name = models.CharField(max_length=30, blank=True)
    full_name = models.CharField(max_length=70, blank=True)
    status = models.CharField("status in iMIS", max_length=5, blank=True)
    is_company = models.BooleanField(default=False)
    exclude_mail = models.BooleanField(default=False)
    language = models.CharField(
        max_length=7,
        blank=True,
        help_text="The member's language from iMIS (IMIS_LANGUAGE_FIELD), one of LANGUAGES; empty: unknown, the "
        "browser decides. Their links carry it.",
    )
    active = models.BooleanField(default=True, help_text="Still in the iMIS roster.")
    # Set by every roster pull that sees the member: the ones a complete pull did not see are gone.
    last_seen_in_imis_at = models.DateTimeField(null=True, blank=True, editable=False)
    token_version = models.PositiveIntegerField(default=1, help_text="Bumped to invalidate old links.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["imis_id"]

    def __str__(self):
        return self.imis_id

    @property
    def mailable(self):
        """May be offered personal links and counted in target groups (the same rule as mailable_q)."""
        statuses = settings.LINK_STATUSES
        return self.active and bool(self.email) and not self.exclude_mail and (not statuses or self.status in statuses)


class Preference(models.Model):
    """A member's current choice for one interest, and the last value seen in or written to iMIS."""

    # No index of their own: unique_preference (subscriber, interest) and (interest, value) lead with them.
    # Every save updates these rows; each index is one more write per row.
    # No foreign-key constraint in the database either: a first pull inserts millions of rows, and checking
    # each one's member and interest at commit was a large part of it (docs/benchmarks.md). Members and
    # interests are never deleted (deactivated, hidden; the admin refuses, and PreferenceChange protects
    # them), so no row can lose its member or interest.
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="preferences", db_index=False, db_constraint=False
    )
    interest = models.ForeignKey(
        "interests.RemoteInterest",
        on_delete=models.CASCADE,
        related_name="preferences",
        db_index=False,
        db_constraint=False,
    )
    value = models.BooleanField(default=False)
    # What iMIS holds as far as we know; None: not known yet (e.g. no UD row). Two-way sync compares this.
    imis_value = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "interest"], name="unique_preference"),
        ]
        indexes = [models.Index(fields=["interest", "value"])]

    def __str__(self):
        # The caption of the member's admin rows: staff read the interest, not ids.
        return f"{self.interest}: {'on' if self.value else 'off'}"


class PreferenceChange(models.Model):
    """Append-only history of every change, and the outbox of changes still to reach iMIS."""

    class Source(models.TextChoices):
        FORM = "form", "member form"
        ONE_CLICK = "one_click", "one-click unsubscribe"
        ADMIN = "admin", "staff (admin)"
        API = "api", "API"
        IMIS = "imis", "iMIS"

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        SENDING = "sending", "sending"
        DONE = "done", "done"
        FAILED = "failed", "failed"
        NOT_NEEDED = "not_needed", "not needed"

    uuid = models.UUIDField("UUID", default=uuid.uuid4, unique=True, editable=False)
    # No index of their own: the member's is the lead of (subscriber, interest, created_at), and what looks
    # up changes by interest does so within a time range (created_at's index); every save writes each index.
    # No foreign-key constraints in the database (see Preference): PostgreSQL checked each history row's
    # member and interest under a row lock (FOR KEY SHARE), so every save locked the interest rows that
    # every other save locked. PROTECT still guards them in the ORM, and they are never deleted.
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.PROTECT, related_name="changes", db_index=False, db_constraint=False
    )
    interest = models.ForeignKey(
        "interests.RemoteInterest",
        on_delete=models.PROTECT,
        related_name="changes",
        db_index=False,
        db_constraint=False,
    )
    old_value = models.BooleanField(null=True)
    new_value = models.BooleanField()
    source = models.CharField(max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user_agent = models.CharField(max_length=255, blank=True)
    ip_address = models.GenericIPAddressField("IP address", null=True, blank=True)
    label_shown = models.TextField(blank=True, help_text="The text the member saw and agreed to.")
    note = models.CharField(max_length=255, blank=True)
    # The staff user who made a change in the admin (a member's phone request); empty for every other source.
    # PROTECT: staff accounts are deactivated, not deleted, so the history keeps who changed what.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="staff user",
        db_index=False,  # as the history's other keys: every row written pays for a constraint and an index
        db_constraint=False,  # entry, and this one is empty on nearly every row
    )

    # Outbox: the push to iMIS.
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    activity_seqn = models.IntegerField("Activity SEQN", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "created_at"]),
            models.Index(fields=["subscriber", "interest", "created_at"]),
        ]

    def __str__(self):
        return f"{self.interest}: {on_off(self.old_value)} → {on_off(self.new_value)} ({self.get_source_display()})"


def on_off(value) -> str:
    """A choice as the history writes it: on, off, or ? when unknown."""
    return "?" if value is None else ("on" if value else "off")
