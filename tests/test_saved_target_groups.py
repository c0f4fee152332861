"""Saved target groups: a named combination of interests, checked as any target group is, sized and
exported as it stands now; created, listed and exported in the admin."""

import csv
import io
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mailing.models import SavedTargetGroup
from mailing.selectors import InvalidTargetGroup, saved_target_group_state, saved_target_groups
from mailing.services.target_groups import saved_target_group_save
from tests.factories import make_subscriber, signed_in, staff_user
from tests.mailing_helpers import URLS

pytestmark = [pytest.mark.django_db, URLS]
ADMIN = "/admin/mailing/savedtargetgroup/"


def saved(name, **combination):
    return saved_target_group_save(group=SavedTargetGroup(name=name), **combination)


def csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


class TestService:
    def test_it_keeps_a_combination_and_sizes_it_as_it_stands(self, groups):
        news, events, alerts = groups
        group = saved("News but no alerts", any_of=[news.pk, events.pk], none_of=[alerts.pk])

        state = saved_target_group_state(saved=saved_target_groups().get(pk=group.pk))
        assert state.size == 2 and state.problem == ""
        assert state.spec.describe() == "any of (Monthly newsletter, Events and conferences), minus (Advocacy alerts)"

        make_subscriber(imis_id="5", on=[events])
        assert saved_target_group_state(saved=group).size == 3  # never frozen

    @pytest.mark.parametrize(
        "combination, message",
        [
            ({"any_of": []}, "Choose at least one interest"),
            ({"any_of": [1], "none_of": [1]}, "both wanted and excluded"),
            ({"any_of": [999999]}, "Not an interest on the form: 999999"),
        ],
    )
    def test_it_refuses_a_combination_that_cannot_be_mailed_and_saves_nothing(self, groups, combination, message):
        combination = {k: [groups[0].pk if pk == 1 else pk for pk in v] for k, v in combination.items()}
        with pytest.raises(InvalidTargetGroup, match=message):
            saved("Broken", **combination)
        assert not SavedTargetGroup.objects.exists()

    def test_a_group_naming_an_interest_that_left_the_form_says_so(self, groups):
        news, events, _ = groups
        group = saved("Events", any_of=[events.pk], all_of=[news.pk])
        news.visible = False
        news.save()

        state = saved_target_group_state(saved=group)
        assert state.spec is None and state.size is None
        assert state.problem.startswith(f"Not an interest on the form: {news.pk}")


class TestAdmin:
    def test_staff_create_one_and_see_its_size(self, groups):
        news, events, alerts = groups
        user = staff_user("add_savedtargetgroup", "view_savedtargetgroup", "change_savedtargetgroup")
        client = signed_in(user)

        response = client.post(
            f"{ADMIN}add/", {"name": "Engaged", "any_of": [news.pk], "all_of": [events.pk], "none_of": [alerts.pk]}
        )

        assert response.status_code == 302
        group = SavedTargetGroup.objects.get(name="Engaged")
        assert (list(group.any_of.all()), list(group.all_of.all()), group.created_by) == ([news], [events], user)
        assert LogEntry.objects.filter(object_id=str(group.pk)).exists()
        page = client.get(ADMIN).content.decode()
        assert "Engaged" in page and "Monthly newsletter and all of (Events and conferences)" in page
        assert '<td class="field-size">1</td>' in page

    def test_it_refuses_a_combination_that_cannot_be_mailed(self, groups):
        news, _, _ = groups
        client = signed_in(staff_user("add_savedtargetgroup", "view_savedtargetgroup"))
        response = client.post(f"{ADMIN}add/", {"name": "Odd", "any_of": [news.pk], "none_of": [news.pk]})
        assert response.status_code == 200 and "is both wanted and excluded" in response.content.decode()
        assert not SavedTargetGroup.objects.exists()

    def test_the_combine_page_offers_to_save_what_it_counted(self, groups):
        news, events, _ = groups
        client = signed_in(staff_user("view_targetgroup", "add_savedtargetgroup"))
        page = client.get(f"/admin/mailing/targetgroup/combine/?any_of={news.pk}&none_of={events.pk}").content.decode()
        add = f"{ADMIN}add/?any_of={news.pk}&amp;none_of={events.pk}"
        assert f'href="{add}"' in page
        form = client.get(add.replace("&amp;", "&")).content.decode()
        assert re.search(rf'<input type="checkbox" name="any_of" value="{news.pk}"[^>]* checked>', form)

    def test_it_exports_a_group_only_for_staff_who_may_export(self, groups):
        news, events, _ = groups
        group = saved("News readers", any_of=[news.pk])
        viewer = signed_in(staff_user("view_savedtargetgroup"))
        exporter = signed_in(staff_user("view_savedtargetgroup", "export_targetgroup"))
        export = f"{ADMIN}{group.pk}/export/"

        assert "CSV with personal links" not in viewer.get(ADMIN).content.decode()
        assert viewer.get(export).status_code == 403
        assert f'href="{export}"' in exporter.get(ADMIN).content.decode()
        response = exporter.get(export)
        assert response["Content-Disposition"].startswith('attachment; filename="news-readers-')
        assert [row[0] for row in csv_rows(response)] == ["imis_id", "1", "2"]

    def test_it_will_not_export_a_group_that_cannot_be_mailed(self, groups):
        news, events, _ = groups
        group = saved("Events", any_of=[events.pk])
        events.visible = False
        events.save()
        exporter = signed_in(staff_user("view_savedtargetgroup", "change_savedtargetgroup", "export_targetgroup"))

        response = exporter.get(f"{ADMIN}{group.pk}/export/", follow=True)

        assert "“Events” cannot be exported: Not an interest on the form" in response.content.decode()
        assert f"Not an interest on the form: {events.pk}" in exporter.get(ADMIN).content.decode()


def test_the_list_reads_the_form_once_whatever_the_number_of_groups(groups):
    news, events, alerts = groups
    client = signed_in(staff_user("view_savedtargetgroup"))
    saved("One", any_of=[news.pk])
    client.get(ADMIN)  # the session and permissions read once
    with CaptureQueriesContext(connection) as one:
        assert client.get(ADMIN).status_code == 200
    for n in range(5):
        saved(f"More {n}", any_of=[events.pk], none_of=[alerts.pk])
    with CaptureQueriesContext(connection) as six:
        page = client.get(ADMIN).content.decode()
    assert page.count('class="field-size"') == 6
    assert len(six) - len(one) == 5  # one COUNT per more group, nothing else
