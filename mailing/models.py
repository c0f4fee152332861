"""The mailing system's side: API keys, webhook deliveries, and target groups (a proxy of the interests
that are on the form, for the admin)."""

from django.conf import settings
from django.db import models

from interests.models import RemoteInterest, RemoteInterestQuerySet


class ApiKey(models.Model):
    """A key the mailing system sends as `Authorization: Bearer <key>`. Only a hash is stored: the key is
    shown once, when staff create it. Revoked keys stay, so the list says who had access and when.

    A key never does more than the staff user who created it may do now (services.api_keys.api_key_rights):
    its scope and `links` are what it was made for, within its creator's current permissions."""

    class Scope(models.TextChoices):
        READ = "read", "read-only"
        READ_WRITE = "read_write", "read and write (may change members' preferences)"

    name = models.CharField(max_length=100, help_text="Who uses this key, e.g. “Mailing system (production)”.")
    prefix = models.CharField(max_length=12, unique=True, editable=False, help_text="Shown to tell keys apart.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)  # SHA-256 hex of the whole key
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    links = models.BooleanField(
        "may read personal links",
        default=False,
        help_text="Members' personal links (preference_url, one_click_url) and the CSV exports: credentials "
        "that let anybody change a member's choices. Needs the “Can export target groups” permission.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self):
        return self.revoked_at is None

    @property
    def can_write(self):
        return self.active and self.scope == self.Scope.READ_WRITE


class WebhookDelivery(models.Model):
    """The webhook event of one PreferenceChange, until the receiver acknowledged it (2xx).

    Claimed by pushing `next_attempt_at` forward (a lease), so a killed worker's delivery comes back by
    itself; the sweep re-sends what a lost message left behind."""

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        DONE = "done", "delivered"
        FAILED = "failed", "failed (gave up)"

    change = models.OneToOneField(
        "subscribers.PreferenceChange", on_delete=models.CASCADE, related_name="webhook_delivery"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_status = models.PositiveIntegerField(null=True, blank=True, help_text="HTTP status of the last attempt.")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self):
        return f"webhook {self.change_id} {self.state}"


class OnFormInterests(models.Manager.from_queryset(RemoteInterestQuerySet)):
    def get_queryset(self):
        return super().get_queryset().on_form()


class TargetGroup(RemoteInterest):
    """An interest on the form seen as the members a mailing to it reaches (admin: sizes, export)."""

    objects = OnFormInterests()

    class Meta:
        proxy = True
        verbose_name = "target group"
        ordering = ["position", "id"]
        permissions = [("export_targetgroup", "Can export target groups with members' personal links")]


class SavedTargetGroup(models.Model):
    """A named combination of interests staff keep, as Informz users keep saved target groups: the mailable
    members with ANY of `any_of` on, ALL of `all_of` on and NONE of `none_of` on (selectors.TargetGroupSpec).
    Sized and exported as it stands when asked, never frozen."""

    name = models.CharField(max_length=100, unique=True, help_text="How your mailings call it, e.g. “Policy news”.")
    any_of = models.ManyToManyField(RemoteInterest, blank=True, related_name="+", verbose_name="members with any of")
    all_of = models.ManyToManyField(RemoteInterest, blank=True, related_name="+", verbose_name="…and with all of")
    none_of = models.ManyToManyField(
        RemoteInterest, blank=True, related_name="+", verbose_name="…minus members with any of"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "saved target group"

    def __str__(self):
        return self.name
