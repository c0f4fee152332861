"""`export_links -o FILE` reports the rows it wrote, not the pieces it wrote them in."""

import csv
import io

import pytest
from django.core.management import call_command

from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db


def test_it_reports_how_many_links_it_wrote(tmp_path):
    Subscriber.objects.bulk_create(
        [Subscriber(imis_id=f"{n:06d}", email=f"member{n}@example.org", first_name="Ann") for n in range(446)]
    )
    Subscriber.objects.create(imis_id="999999", email="")  # not mailable: no row, not counted
    target = tmp_path / "links.csv"
    err = io.StringIO()

    call_command("export_links", output=str(target), stderr=err)

    assert len(list(csv.DictReader(target.open(newline="")))) == 446
    assert f"446 links written to {target}" in err.getvalue()
