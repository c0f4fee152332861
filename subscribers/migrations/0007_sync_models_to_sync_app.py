"""SyncRun and MissingUdRow now belong to the `sync` app (sync 0001 takes them over). State only: the tables,
their rows, indexes and constraints stay as they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0006_missing_ud_row"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="MissingUdRow"),
                migrations.DeleteModel(name="SyncRun"),
            ],
            database_operations=[],
        ),
    ]
