"""The target groups in the admin: sizes, combinations, CSV export (a permission of its own), charts."""

import csv
import io

import pytest

from tests.factories import signed_in, staff_user
from tests.mailing_helpers import URLS

pytestmark = [pytest.mark.django_db, URLS]


def test_it_lists_each_group_with_its_size(groups):
    client = signed_in(staff_user("view_targetgroup"))

    page = client.get("/admin/mailing/targetgroup/").content.decode()

    assert '<td class="field-size">2</td>' in page  # newsletter: 1 and 2 (4 is excluded from mail)
    assert '<td class="field-size">1</td>' in page  # alerts
    assert "Monthly newsletter" in page and "Combine groups" in page and "Charts" in page


def test_it_keeps_target_groups_from_staff_without_the_permission(groups):
    client = signed_in(staff_user())

    assert client.get("/admin/mailing/targetgroup/").status_code == 403
    assert client.get("/admin/mailing/targetgroup/combine/").status_code == 403
    assert client.get("/admin/mailing/targetgroup/charts/").status_code == 403


def test_it_sizes_a_combination_staff_pick(groups):
    news, events, alerts = groups
    client = signed_in(staff_user("view_targetgroup", "export_targetgroup"))

    page = client.get(
        f"/admin/mailing/targetgroup/combine/?any_of={news.pk}&any_of={events.pk}&none_of={alerts.pk}"
    ).content.decode()

    assert "<strong>2</strong> mailable members" in page
    assert f"/admin/mailing/targetgroup/export/?any_of={news.pk}&amp;any_of={events.pk}&amp;none_of={alerts.pk}" in page


def test_it_explains_an_impossible_combination(groups):
    news, _, _ = groups
    client = signed_in(staff_user("view_targetgroup"))

    page = client.get(f"/admin/mailing/targetgroup/combine/?none_of={news.pk}").content.decode()

    assert "Choose at least one interest in any_of or all_of." in page


def test_it_exports_only_for_staff_with_the_export_permission(groups):
    news, _, _ = groups
    viewer = signed_in(staff_user("view_targetgroup"))
    exporter = signed_in(staff_user("view_targetgroup", "export_targetgroup"))

    assert viewer.get(f"/admin/mailing/targetgroup/export/?any_of={news.pk}").status_code == 403
    response = exporter.get(f"/admin/mailing/targetgroup/export/?any_of={news.pk}")

    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[0] for row in rows] == ["imis_id", "1", "2"]


def test_it_draws_the_charts_with_chart_js_from_our_own_static_files(groups):
    client = signed_in(staff_user("view_targetgroup"))

    page = client.get("/admin/mailing/targetgroup/charts/?period=week&days=30").content.decode()

    assert '<script src="/static/vendor/chartjs/chart.umd.min.js" defer></script>' in page
    assert '<script src="/static/mailing/charts.js" defer></script>' in page
    assert 'id="chart-data"' in page and '"period": "week"' in page
    assert '"values": [2, 2, 1]' in page  # group sizes: newsletter, events, alerts
