import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0005_history_without_fk_constraints"),
    ]

    operations = [
        migrations.CreateModel(
            name="MissingUdRow",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("table_name", models.CharField(max_length=30, verbose_name="UD table")),
                (
                    "seen_at",
                    models.DateTimeField(help_text="When a pull first found the row missing."),
                ),
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
                "verbose_name": "missing UD row",
                "ordering": ["table_name", "subscriber_id"],
                "indexes": [models.Index(fields=["table_name"], name="missing_ud_row_table_idx")],
                "constraints": [
                    models.UniqueConstraint(fields=("subscriber", "table_name"), name="unique_missing_ud_row")
                ],
            },
        ),
    ]
