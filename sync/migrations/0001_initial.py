"""SyncRun and MissingUdRow, taken over from `subscribers` (subscribers 0007) without touching the database:
the tables keep their names (db_table) and every row. Their content types follow them, so that the
permissions staff groups hold on them stay theirs."""

import django.db.models.deletion
from django.db import migrations, models

MOVED = ("syncrun", "missingudrow")


def content_types_to(apps, old_label, new_label):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=new_label, model=model).exists():
            ContentType.objects.filter(app_label=old_label, model=model).update(app_label=new_label)


def forwards(apps, schema_editor):
    content_types_to(apps, "subscribers", "sync")


def backwards(apps, schema_editor):
    content_types_to(apps, "sync", "subscribers")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("subscribers", "0007_sync_models_to_sync_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SyncRun",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        (
                            "kind",
                            models.CharField(
                                choices=[("discover", "discovery"), ("pull", "pull"), ("push", "push"), ("sweep", "sweep")],
                                db_index=True,
                                max_length=10,
                            ),
                        ),
                        ("started_at", models.DateTimeField(db_index=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("ok", models.BooleanField(default=False)),
                        ("counts", models.JSONField(blank=True, default=dict)),
                        ("error", models.TextField(blank=True)),
                    ],
                    options={"db_table": "subscribers_syncrun", "ordering": ["-started_at"]},
                ),
                migrations.CreateModel(
                    name="MissingUdRow",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("table_name", models.CharField(max_length=30, verbose_name="UD table")),
                        ("seen_at", models.DateTimeField(help_text="When a pull first found the row missing.")),
                        (
                            "subscriber",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="missing_ud_rows",
                                to="subscribers.subscriber",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "subscribers_missingudrow",
                        "verbose_name": "missing UD row",
                        "ordering": ["table_name", "subscriber_id"],
                        "indexes": [models.Index(fields=["table_name"], name="missing_ud_row_table_idx")],
                        "constraints": [
                            models.UniqueConstraint(fields=("subscriber", "table_name"), name="unique_missing_ud_row")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
