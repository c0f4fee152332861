"""Manage iMIS Remote Interests (the RemoteInterest changelist): who may see and change what, the list with
target group sizes, inline edits, bulk show/hide, ordering, and a query count that does not grow."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from interests.models import RemoteInterest, SkippedImisField
from tests.factories import make_interest, make_preference, make_subscriber
from tests.interests_helpers import staff

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:interests_remoteinterest_changelist")
EDITOR_PERMS = ["view_remoteinterest", "change_remoteinterest"]


@pytest.fixture
def editor(client):
    client.force_login(staff("editor", EDITOR_PERMS))
    return client


@pytest.fixture
def viewer(client):
    client.force_login(staff("viewer", ["view_remoteinterest"]))
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
        client.force_login(staff("nobody"))
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

        positions = [html.index(name) for name in ("ud_EmailPrefs.NEWSLETTER", "ud_EmailPrefs.EVENTS", "UD_Topics.")]
        assert positions == sorted(positions)
        assert "Monthly newsletter" in html

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


class TestOrdering:
    def test_it_moves_the_selected_interests_to_the_top_or_bottom(self, editor, three):
        newsletter, events, policy = three
        editor.post(CHANGELIST, {"action": "move_to_top", "_selected_action": [policy.pk]})
        assert order() == ["Policy_Updates", "NEWSLETTER", "EVENTS"]

        editor.post(CHANGELIST, {"action": "move_to_bottom", "_selected_action": [policy.pk, newsletter.pk]})
        assert order() == ["EVENTS", "Policy_Updates", "NEWSLETTER"]  # the moved keep their own order

        editor.post(CHANGELIST, {"action": "move_up", "_selected_action": [policy.pk]})
        assert order() == ["Policy_Updates", "EVENTS", "NEWSLETTER"]
        editor.post(CHANGELIST, {"action": "move_down", "_selected_action": [events.pk]})
        assert order() == ["Policy_Updates", "NEWSLETTER", "EVENTS"]

    def test_it_moves_a_row_with_its_buttons_and_keeps_the_filters(self, editor, three):
        html = editor.get(CHANGELIST + "?visible__exact=1").content.decode()
        up = reverse("admin:interests_remoteinterest_move", args=[three[1].pk, "up"])
        assert f'formaction="{up}?_changelist_filters=visible__exact%3D1"' in html

        response = editor.post(f"{up}?_changelist_filters=visible__exact%3D1")

        assert response.status_code == 302 and response["Location"] == CHANGELIST + "?visible__exact=1"
        assert order() == ["EVENTS", "NEWSLETTER", "Policy_Updates"]

    def test_it_accepts_moves_only_by_post_from_staff_who_may_change(self, client, three):
        up = reverse("admin:interests_remoteinterest_move", args=[three[1].pk, "up"])
        client.force_login(staff("viewer", ["view_remoteinterest"]))
        assert client.post(up).status_code == 403
        client.force_login(staff("editor", EDITOR_PERMS))
        assert client.get(up).status_code == 405
        assert order() == ["NEWSLETTER", "EVENTS", "Policy_Updates"]

    def test_it_refuses_an_unknown_move(self, editor, three):
        response = editor.post(reverse("admin:interests_remoteinterest_move", args=[three[1].pk, "sideways"]))
        assert response.status_code == 302
        assert order() == ["NEWSLETTER", "EVENTS", "Policy_Updates"]


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
                "position": "7",
                "visible": "on",
                "product_code": "NL",
                "field_name": "HACKED",
                "prompt": "Hacked",
            },
        )

        assert response.status_code == 302
        saved = RemoteInterest.objects.get(pk=three[0].pk)
        assert (saved.label, saved.group, saved.position, saved.product_code) == ("News", "Letters", 7, "NL")
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
        client.force_login(staff("nobody"))
        assert client.get(reverse("admin:interests_skippedimisfield_changelist")).status_code == 403


class TestDragAndDrop:
    REORDER = reverse("admin:interests_remoteinterest_reorder")

    def test_it_saves_the_order_a_drag_left_on_the_page(self, editor, three):
        newsletter, events, policy = three
        html = editor.get(CHANGELIST).content.decode()
        assert f'data-reorder-url="{self.REORDER}"' in html and "interests/admin_reorder.js" in html

        response = editor.post(self.REORDER, {"order": f"{policy.pk},{newsletter.pk},{events.pk}"})

        assert response.status_code == 200 and response.json() == {"moved": 3}
        assert order() == ["Policy_Updates", "NEWSLETTER", "EVENTS"]
        assert LogEntry.objects.filter(object_id=str(policy.pk), change_message__contains="position").exists()

    def test_it_refuses_a_garbled_order(self, editor, three):
        for garbled in ("1,x", f"{three[0].pk},{three[0].pk}", "424242"):
            assert editor.post(self.REORDER, {"order": garbled}).status_code == 400
        assert order() == ["NEWSLETTER", "EVENTS", "Policy_Updates"]

    def test_it_is_only_for_staff_who_may_change(self, viewer, three):
        assert "data-reorder-url" not in viewer.get(CHANGELIST).content.decode()
        assert viewer.post(self.REORDER, {"order": f"{three[2].pk},{three[0].pk}"}).status_code == 403
        assert order() == ["NEWSLETTER", "EVENTS", "Policy_Updates"]

    def test_it_serves_its_script_from_static(self):
        assert finders.find("interests/admin_reorder.js")
