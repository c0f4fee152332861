"""What the sync records: its runs (the dashboard) and the members a pull found without a UD row.

Both tables kept the names they had when these models lived in `subscribers` (migration sync 0001)."""

from django.db import models


class SyncRun(models.Model):
    """One discovery, pull or push run: what it did and how long it took (the dashboard)."""

    class Kind(models.TextChoices):
        DISCOVER = "discover", "discovery"
        PULL = "pull", "pull"
        PUSH = "push", "push"

    kind = models.CharField(max_length=10, choices=Kind.choices, db_index=True)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        db_table = "subscribers_syncrun"  # the table it had when it lived in subscribers
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def duration_display(self):
        """ "0.2 s", "2 min 5 s": what a person reads on the dashboard; "running" while it runs."""
        if self.duration is None:
            return "running"
        seconds = self.duration.total_seconds()
        if seconds < 60:
            return f"{seconds:.1f} s"
        minutes, seconds = divmod(round(seconds), 60)
        return f"{minutes} min {seconds} s"


class MissingUdRow(models.Model):
    """A member the last complete pull found without a row in a UD table whose checkboxes are on the form.

    iMIS never creates these rows, so the member's choices of that table cannot reach iMIS until iMIS staff
    create the row (the "Missing UD rows" report gives them the statement). Only members WITHOUT a row are
    stored, usually few; each complete pull replaces a table's set."""

    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="missing_ud_rows", db_index=False
    )
    table_name = models.CharField("UD table", max_length=30)  # spelled as the interests spell it (the catalogue)
    seen_at = models.DateTimeField(help_text="When a pull first found the row missing.")

    class Meta:
        db_table = "subscribers_missingudrow"
        ordering = ["table_name", "subscriber_id"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "table_name"], name="unique_missing_ud_row"),
        ]
        indexes = [models.Index(fields=["table_name"], name="missing_ud_row_table_idx")]
        verbose_name = "missing UD row"

    def __str__(self):
        return f"{self.subscriber_id} has no row in {self.table_name}"
