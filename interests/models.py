from django.db import models
from django.db.models.functions import Lower


def display_label(label, prompt, field_name):
    """What members read for an interest: staff's label, else iMIS's prompt, else the field's name."""
    return label or prompt or field_name


class RemoteInterestQuerySet(models.QuerySet):
    def on_form(self):
        """The interests members see: visible, and still present in iMIS. The one definition of the rule
        (subscribers.selectors spells it in SQL for the member's one-statement page)."""
        return self.filter(visible=True, present_in_imis=True)


class RemoteInterest(models.Model):
    """A checkbox field of an iMIS UD table that staff may show on the member's form.

    Discovery upserts these; staff choose which are visible and how they read. Never deleted: a field
    that vanished from iMIS is marked `present_in_imis=False` and its history stays."""

    table_name = models.CharField(max_length=30)
    field_name = models.CharField(max_length=30)
    prompt = models.CharField("prompt in iMIS", max_length=30, blank=True)
    micro_help = models.CharField("micro help in iMIS", max_length=255, blank=True, editable=False)
    label = models.CharField(max_length=200, blank=True, help_text="What members see. Empty: the iMIS prompt.")
    description = models.TextField(blank=True, help_text="Shown under the checkbox.")
    group = models.CharField("group heading", max_length=100, blank=True)
    # French for members whose page is in French; empty: the fields above (never an empty box).
    label_fr = models.CharField("label (French)", max_length=200, blank=True, help_text="Empty: the label above.")
    description_fr = models.TextField("description (French)", blank=True, help_text="Empty: the description above.")
    group_fr = models.CharField(
        "group heading (French)",
        max_length=100,
        blank=True,
        help_text="Once per group is enough: its other interests take it. Empty: the group heading above.",
    )
    position = models.PositiveIntegerField(default=0, db_index=True)
    visible = models.BooleanField(default=False, help_text="Shown on the member form.")
    present_in_imis = models.BooleanField("present in iMIS", default=True, editable=False)
    product_code = models.CharField(
        max_length=31, blank=True, help_text="PRODUCT_CODE of the Activity rows. Empty: the field name."
    )
    discovered_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When a roster pull last read this field's values for every member. Until then a value found "on" in
    # iMIS is a first sight, not a change made in iMIS (no history row).
    values_pulled_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = RemoteInterestQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            # iMIS (SQL Server) compares names case-insensitively: 'NEWSLETTER' and 'Newsletter' are one field.
            models.UniqueConstraint(Lower("table_name"), Lower("field_name"), name="unique_remote_interest_ci"),
        ]

    def __str__(self):
        return self.display_label

    @property
    def display_label(self):
        return display_label(self.label, self.prompt, self.field_name)

    @property
    def imis_name(self):
        return f"{self.table_name}.{self.field_name}"

    @property
    def activity_product_code(self):
        return self.product_code or self.field_name


class SkippedImisField(models.Model):
    """A UD_Field row the last discovery did not offer as an interest, and why (shown to staff).

    Replaced as a whole on each successful discovery: it describes iMIS as it is now, not history."""

    table_name = models.CharField(max_length=100)  # as written in iMIS metadata, which may be hostile
    field_name = models.CharField(max_length=100)
    reason = models.CharField(max_length=200)
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["table_name", "field_name"]
        verbose_name = "skipped iMIS field"

    def __str__(self):
        return f"{self.table_name}.{self.field_name}"
