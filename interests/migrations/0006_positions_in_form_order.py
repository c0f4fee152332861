"""Positions saved before the interests list kept each group together (or written by hand) are put in the
form's order once: each group where its first interest is, numbered 1..n (interests.services.ordering).
Since then discovery, group edits and moves keep them so, and the list only reads them."""

from django.db import migrations


def positions_in_form_order(apps, schema_editor):
    RemoteInterest = apps.get_model("interests", "RemoteInterest")
    grouped = {}
    for interest in RemoteInterest.objects.order_by("position", "id"):
        grouped.setdefault(interest.group, []).append(interest)
    changed = []
    for position, interest in enumerate((i for members in grouped.values() for i in members), start=1):
        if interest.position != position:
            interest.position = position
            changed.append(interest)
    RemoteInterest.objects.bulk_update(changed, ["position"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("interests", "0005_labels_in_french")]
    operations = [migrations.RunPython(positions_in_form_order, migrations.RunPython.noop)]
