"""The API of saved target groups: named combinations staff keep in the admin, with their size, members
and CSV export (the same keys and scopes as the target groups)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors
from ..exports import export_response
from . import serializers as s
from .permissions import ApiKeyScope, LinksScope
from .views import LINKS_ONLY, READ_ERRORS, MailingApiMixin, _errors, _MembersView

TAGS = ["saved target groups"]


class NotMailable(APIException):
    status_code = 409
    default_code = "not_mailable"
    default_detail = "This saved target group names an interest that is no longer on the form."


def _state(pk, with_size=True):
    saved = get_object_or_404(selectors.saved_target_groups(), pk=pk)
    return selectors.saved_target_group_state(saved=saved, with_size=with_size)


def _mailable(pk):
    state = _state(pk, with_size=False)
    if state.spec is None:
        raise NotMailable(f"“{state.saved.name}” cannot be mailed now: {state.problem}")
    return state


CONFLICT = {409: s.ErrorSerializer}


class SavedGroupList(MailingApiMixin, APIView):
    @extend_schema(
        operation_id="saved_target_groups_list",
        summary="Saved target groups",
        description="Named combinations kept in the admin, each with its size now (null, with `problem`, for a "
        "group naming an interest no longer on the form). One COUNT query per group.",
        responses={200: s.SavedTargetGroupSerializer(many=True), **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request):
        states = selectors.saved_target_group_states()
        return Response(s.SavedTargetGroupSerializer(states, many=True).data)


class SavedGroupDetail(MailingApiMixin, APIView):
    @extend_schema(
        operation_id="saved_target_groups_retrieve",
        summary="A saved target group and its size",
        responses={200: s.SavedTargetGroupSerializer, **_errors(401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request, pk):
        return Response(s.SavedTargetGroupSerializer(_state(pk)).data)


class SavedGroupMembers(_MembersView):
    def group(self):
        return _mailable(self.kwargs["pk"]).spec

    @extend_schema(
        operation_id="saved_target_groups_members",
        summary="Members of a saved target group, with their personal links",
        description="Cursor-paginated by iMIS ID: follow `next` until it is null. 409 when the group names an "
        "interest no longer on the form.",
        responses={200: s.GroupMemberSerializer(many=True), **_errors(401, 404, 429), **CONFLICT},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SavedGroupExport(MailingApiMixin, APIView):
    permission_classes = [ApiKeyScope, LinksScope]

    @extend_schema(
        operation_id="saved_target_groups_export",
        summary="A saved target group as CSV",
        description=LINKS_ONLY + " 409 when the group names an interest no longer on the form.",
        responses={(200, "text/csv"): OpenApiTypes.STR, **_errors(401, 403, 404, 429), **CONFLICT},
        tags=TAGS,
    )
    def get(self, request, pk):
        state = _mailable(pk)
        return export_response(state.spec, name=state.saved.name)
