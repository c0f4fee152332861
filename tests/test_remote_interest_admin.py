"""Manage iMIS Remote Interests (the RemoteInterest changelist): who may see and change what, the list with
target group sizes, inline edits, bulk show/hide, ordering, and a query count that does not grow."""

import json
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from interests.models import RemoteInterest, SkippedImisField
from tests.factories import make_interest, make_preference, make_subscriber, staff_user

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:interests_remoteinterest_changelist")
EDITOR_PERMS = ["view_remoteinterest", "change_remoteinterest"]


@pytest.fixture
def editor(client):
    client.force_login(staff_user(*EDITOR_PERMS))
    return client


@pytest.fixture
def viewer(client):
    client.force_login(staff_user("view_remoteinterest"))
    return client


@pytest.fixture
def three():
    return [
        make_interest(field_name="NEWSLETTER", prompt="Monthly newsletter", position=1, group="News"),
        make_interest(field_name="EVENTS", prompt="Events", position=2),
        make_interest(
            field_name="Policy_Updates",
            table_name="UD_Topics",
            prompt="Policy",
            position=3,
            visible=False,
            group="Advocacy",
        ),
    ]


def order():
    return list(RemoteInterest.objects.values_list("field_name", flat=True))


def formset_data(interests, **changes):
    """The changelist form as a browser posts it, with `changes` = {index: {field: value}} applied."""
    data = {
        "form-TOTAL_FORMS": str(len(interests)),
        "form-INITIAL_FORMS": str(len(interests)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, obj in enumerate(interests):
        row = {
            "id": obj.pk,
            "label": obj.label,
            "description": obj.description,
            "group": obj.group,
            "product_code": obj.product_code,
        }
        if obj.visible:
            row["visible"] = "on"
        row.update(changes.get(str(index), {}))
        data.update({f"form-{index}-{k}": v for k, v in row.items() if v is not None})
    return data


class TestPermissions:
    def test_it_forbids_staff_without_the_permission(self, client, three):
        client.force_login(staff_user())
        assert client.get(CHANGELIST).status_code == 403
        assert client.get(reverse("admin:interests_remoteinterest_change", args=[three[0].pk])).status_code == 403

    def test_it_sends_anonymous_visitors_to_the_login(self, client, three):
        response = client.get(CHANGELIST)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]

    def test_it_shows_view_only_staff_a_list_they_cannot_change(self, viewer, three):
        response = viewer.get(CHANGELIST)

        assert response.status_code == 200
        html = response.content.decode()
        assert "Monthly newsletter" in html
        assert 'name="form-0-label"' not in html
        assert 'value="Refresh from iMIS"' not in html and "formaction=" not in html
        assert "Show on the member form" not in html

        denied = viewer.post(CHANGELIST, formset_data(three, **{"0": {"label": "Hacked"}}))
        assert denied.status_code == 403
        viewer.post(CHANGELIST, {"action": "hide_from_form", "_selected_action": [three[0].pk], "index": 0})
        assert RemoteInterest.objects.get(pk=three[0].pk).label == "Monthly newsletter"
        assert RemoteInterest.objects.get(pk=three[0].pk).visible is True

    def test_it_never_lets_staff_add_or_delete_interests(self, admin_client, three):
        assert admin_client.get(reverse("admin:interests_remoteinterest_add")).status_code == 403
        delete = reverse("admin:interests_remoteinterest_delete", args=[three[0].pk])
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403
        assert RemoteInterest.objects.count() == 3


class TestList:
    def test_it_lists_interests_in_staff_order_with_their_imis_names(self, editor, three):
        html = editor.get(CHANGELIST).content.decode()

        names = ("ud_EmailPrefs.<wbr>NEWSLETTER", "ud_EmailPrefs.<wbr>EVENTS", "UD_Topics.<wbr>Policy_Updates")
        positions = [html.index(name) for name in names]
        assert positions == sorted(positions)
        assert "Monthly newsletter" in html
        assert 'aria-label="Label of Monthly newsletter"' in html  # each row's fields say whose they are

    def test_it_counts_the_members_each_mailing_would_reach(self, editor, three):
        newsletter, events, _policy = three
        counted = [make_subscriber(imis_id=f"10000{i}") for i in range(3)]
        for member in counted:
            make_preference(subscriber=member, interest=newsletter)
        make_preference(subscriber=counted[0], interest=events)
        make_preference(
            subscriber=make_subscriber(imis_id="200001", active=False), interest=newsletter
        )  # left the roster
        make_preference(subscriber=make_subscriber(imis_id="200002", email=""), interest=newsletter)  # no address
        make_preference(
            subscriber=make_subscriber(imis_id="200003", exclude_mail=True), interest=newsletter
        )  # asked for no mail
        make_preference(subscriber=make_subscriber(imis_id="200004"), interest=newsletter, value=False)  # has it off

        result = editor.get(CHANGELIST).context["cl"].result_list
        sizes = {i.field_name: i.audience for i in result}

        assert sizes == {"NEWSLETTER": 3, "EVENTS": 1, "Policy_Updates": 0}

    def test_it_filters_and_searches(self, editor, three):
        three[2].present_in_imis = False
        three[2].save(update_fields=["present_in_imis"])

        def shown(query):
            return [i.field_name for i in editor.get(CHANGELIST + query).context["cl"].result_list]

        assert shown("?visible__exact=0") == ["Policy_Updates"]
        assert shown("?present_in_imis__exact=0") == ["Policy_Updates"]
        assert shown("?table_name=UD_Topics") == ["Policy_Updates"]
        assert shown("?group=News") == ["NEWSLETTER"]
        assert shown("?q=monthly") == ["NEWSLETTER"]

    def test_it_costs_the_same_queries_for_3_and_for_30_interests(self, editor):
        def queries_for(count):
            RemoteInterest.objects.all().delete()
            members = [make_subscriber(imis_id=f"3{count:02d}{i:03d}") for i in range(4)]
            for n in range(count):
                item = make_interest(field_name=f"F{n}", position=n, visible=n % 2 == 0, group=f"G{n % 3}")
                for member in members[: n % 4]:
                    make_preference(subscriber=member, interest=item)
            with CaptureQueriesContext(connection) as captured:
                response = editor.get(CHANGELIST)
            assert len(response.context["cl"].result_list) == count
            return len(captured)

        queries_for(1)  # warm up the session and caches
        small, large = queries_for(3), queries_for(30)
        print(f"changelist queries: {small} for 3 interests, {large} for 30")
        assert small == large


class TestInlineEdits:
    def test_it_saves_edits_made_in_the_list(self, editor, three):
        response = editor.post(
            CHANGELIST,
            formset_data(
                three,
                **{
                    "0": {"label": "Our newsletter", "description": "Once a month", "product_code": "NEWS"},
                    "2": {"visible": "on", "group": "Policy"},
                },
            ),
        )

        assert response.status_code == 302
        newsletter, _events, policy = RemoteInterest.objects.order_by("position")
        assert (newsletter.label, newsletter.description, newsletter.product_code) == (
            "Our newsletter",
            "Once a month",
            "NEWS",
        )
        assert (policy.visible, policy.group) == (True, "Policy")
        assert LogEntry.objects.filter(object_id=str(newsletter.pk)).exists()

    def test_it_refuses_bad_input_and_saves_nothing(self, editor, three):
        response = editor.post(
            CHANGELIST,
            formset_data(three, **{"0": {"label": "Changed"}, "1": {"product_code": "P" * 32}}),
        )

        assert response.status_code == 200
        assert "Ensure this value has at most 31 characters" in response.content.decode()
        assert RemoteInterest.objects.get(pk=three[0].pk).label == "Monthly newsletter"
        assert RemoteInterest.objects.get(pk=three[1].pk).product_code == ""


class TestBulkActions:
    def test_it_shows_and_hides_the_selected_interests(self, editor, three):
        newsletter, events, policy = three
        editor.post(CHANGELIST, {"action": "hide_from_form", "_selected_action": [newsletter.pk, events.pk]})
        assert list(RemoteInterest.objects.filter(visible=True)) == []

        response = editor.post(
            CHANGELIST, {"action": "show_on_form", "_selected_action": [policy.pk, events.pk]}, follow=True
        )
        assert set(RemoteInterest.objects.filter(visible=True)) == {policy, events}
        assert "2 interest(s) shown on the member form." in response.content.decode()
        assert LogEntry.objects.filter(object_id=str(policy.pk), change_message__contains="visible").exists()


@pytest.fixture
def grouped():
    """Two groups as the form shows them: News (A1, A2), then Advocacy (B1, B2)."""
    return {
        name: make_interest(field_name=name, prompt=name, position=i, visible=True, group=group)
        for i, (name, group) in enumerate(
            [("A1", "News"), ("A2", "News"), ("B1", "Advocacy"), ("B2", "Advocacy")], start=1
        )
    }


class TestOrdering:
    def test_it_moves_the_selected_interests_within_their_group(self, editor, grouped):
        response = editor.post(
            CHANGELIST, {"action": "move_to_top", "_selected_action": [grouped["A2"].pk, grouped["B2"].pk]}, follow=True
        )
        assert order() == ["A2", "A1", "B2", "B1"]
        assert "2 interest(s) moved to the top of their group; 4 changed place." in response.content.decode()

        editor.post(CHANGELIST, {"action": "move_to_bottom", "_selected_action": [grouped["A2"].pk]})
        assert order() == ["A1", "A2", "B2", "B1"]
        editor.post(CHANGELIST, {"action": "move_up", "_selected_action": [grouped["B2"].pk]})  # first of its group
        assert order() == ["A1", "A2", "B2", "B1"]
        editor.post(CHANGELIST, {"action": "move_down", "_selected_action": [grouped["B2"].pk]})
        assert order() == ["A1", "A2", "B1", "B2"]

    def test_it_lists_the_interests_as_the_form_shows_them(self, editor, grouped):
        grouped["A2"].visible = False
        grouped["A2"].save(update_fields=["visible"])

        html = editor.get(CHANGELIST).content.decode()

        cells = re.findall(r'<span class="form-place"><span class="(group-\w+)">([^<]+)</span>', html)
        assert cells == [
            ("group-start", "1 of 1"),
            ("group-rest", "not shown"),
            ("group-start", "1 of 2"),
            ("group-rest", "2 of 2"),
        ]

    def test_it_gathers_a_group_where_its_first_interest_is_when_a_group_is_renamed(self, editor, grouped):
        rows = list(RemoteInterest.objects.order_by("position"))
        editor.post(CHANGELIST, formset_data(rows, **{"3": {"group": "News"}}))
        assert order() == ["A1", "A2", "B2", "B1"]


class TestMoveButtons:
    def move(self, client, interest, move):
        return client.post(reverse("admin:interests_remoteinterest_move", args=[interest.pk, move]))

    def test_it_offers_buttons_that_a_script_runs_in_place(self, editor, grouped):
        html = editor.get(CHANGELIST).content.decode()
        up = reverse("admin:interests_remoteinterest_move", args=[grouped["A2"].pk, "up"])
        assert f'data-url="{up}"' in html and 'type="button"' in html and "formaction" not in html
        assert "interests/admin_order.js" in html and finders.find("interests/admin_order.js")

    def test_it_saves_a_move_and_answers_the_new_order_and_where_the_interest_is(self, editor, grouped):
        response = self.move(editor, grouped["A2"], "up")

        assert response.status_code == 200
        answer = response.json()
        assert answer["message"] == "“A2” is now 1 of 2 under “News” (group 1)."
        assert [row[:2] for row in answer["rows"]] == [
            [grouped[name].pk, position] for position, name in enumerate(["A2", "A1", "B1", "B2"], start=1)
        ]
        assert order() == ["A2", "A1", "B1", "B2"]
        assert LogEntry.objects.filter(object_id=str(grouped["A2"].pk), change_message__contains="position").exists()

    def test_it_says_when_nothing_moved(self, editor, grouped):
        answer = self.move(editor, grouped["B1"], "up").json()
        assert answer["message"].startswith("Nothing moved: “B1” stays 1 of 2 under “Advocacy” (group 2)")
        assert order() == ["A1", "A2", "B1", "B2"]

    def test_it_accepts_moves_only_by_post_from_staff_who_may_change(self, client, grouped):
        client.force_login(staff_user("view_remoteinterest"))
        assert self.move(client, grouped["A2"], "up").status_code == 403
        client.force_login(staff_user(*EDITOR_PERMS))
        assert (
            client.get(reverse("admin:interests_remoteinterest_move", args=[grouped["A2"].pk, "up"])).status_code == 405
        )
        assert order() == ["A1", "A2", "B1", "B2"]

    def test_it_refuses_an_unknown_move(self, editor, grouped):
        response = self.move(editor, grouped["A2"], "sideways")
        assert response.status_code == 400 and "nothing was changed" in response.json()["error"]
        assert order() == ["A1", "A2", "B1", "B2"]


class TestDragAndDrop:
    """sortable2's script posts the rows a drag renumbered; the answer is the list's new order."""

    UPDATE = reverse("admin:interests_remoteinterest_sortable_update")

    def drag(self, client, moved, items):
        return client.post(
            self.UPDATE,
            json.dumps({"updatedItems": [[pk, position] for pk, position in items]}),
            content_type="application/json",
            headers={"X-Moved-Interest": str(moved)},
        )

    def test_it_saves_a_drag_within_a_group(self, editor, grouped):
        b1, b2 = grouped["B1"].pk, grouped["B2"].pk
        answer = self.drag(editor, b2, [[b2, 3], [b1, 4]]).json()
        assert order() == ["A1", "A2", "B2", "B1"]
        assert answer["message"] == "“B2” is now 1 of 2 under “Advocacy” (group 2)."

    def test_a_row_dragged_above_every_group_takes_its_group_to_the_top(self, editor, grouped):
        a1, a2, b1 = grouped["A1"].pk, grouped["A2"].pk, grouped["B1"].pk
        answer = self.drag(editor, b1, [[b1, 1], [a1, 2], [a2, 3]]).json()
        assert order() == ["B1", "B2", "A1", "A2"]
        assert answer["message"] == "“B1” is now 1 of 2 under “Advocacy” (group 1)."

    def test_a_row_dragged_into_another_group_stays_in_its_own(self, editor, grouped):
        a2, b1 = grouped["A2"].pk, grouped["B1"].pk
        answer = self.drag(editor, b1, [[b1, 2], [a2, 3]]).json()
        assert order() == ["A1", "A2", "B1", "B2"]
        assert answer["message"].startswith("Nothing moved: “B1” stays 1 of 2 under “Advocacy” (group 2)")
        assert "change its group" in answer["message"]

    def test_it_refuses_a_garbled_order_and_changes_nothing(self, editor, grouped):
        a1 = grouped["A1"].pk
        for garbled in ([[a1, "x"]], [[a1, 1], [a1, 2]], [[424242, 1]]):
            assert self.drag(editor, a1, garbled).status_code == 400
        assert editor.post(self.UPDATE, "not json", content_type="application/json").status_code == 400
        assert order() == ["A1", "A2", "B1", "B2"]

    def test_it_is_only_for_staff_who_may_change(self, client, grouped):
        client.force_login(staff_user("view_remoteinterest"))
        assert self.drag(client, grouped["B1"].pk, [[grouped["B1"].pk, 1], [grouped["A1"].pk, 2]]).status_code == 403
        assert order() == ["A1", "A2", "B1", "B2"]


class TestChangeForm:
    def test_it_edits_one_interest_but_not_what_comes_from_imis(self, editor, three):
        url = reverse("admin:interests_remoteinterest_change", args=[three[0].pk])
        assert editor.get(url).status_code == 200

        response = editor.post(
            url,
            {
                "label": "News",
                "description": "Monthly",
                "group": "Letters",
                "visible": "on",
                "product_code": "NL",
                "field_name": "HACKED",
                "prompt": "Hacked",
            },
        )

        assert response.status_code == 302
        saved = RemoteInterest.objects.get(pk=three[0].pk)
        assert (saved.label, saved.group, saved.product_code) == ("News", "Letters", "NL")
        assert (saved.field_name, saved.prompt) == ("NEWSLETTER", "Monthly newsletter")


class TestSkippedFields:
    def test_it_shows_staff_who_see_interests_why_fields_are_not_offered(self, viewer):
        SkippedImisField.objects.create(
            table_name="ud_Committees", field_name="CHAIR", reason="multi-instance table", seen_at=timezone.now()
        )
        url = reverse("admin:interests_skippedimisfield_changelist")

        html = viewer.get(url).content.decode()

        assert "CHAIR" in html and "multi-instance table" in html
        assert viewer.get(reverse("admin:interests_skippedimisfield_add")).status_code == 403

    def test_it_hides_them_from_staff_without_the_permission(self, client):
        client.force_login(staff_user())
        assert client.get(reverse("admin:interests_skippedimisfield_changelist")).status_code == 403
