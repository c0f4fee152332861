"""The REST API for the mailing system. Thin views: selectors read, `preferences_save` writes."""

from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from subscribers.models import PreferenceChange, Subscriber
from subscribers.selectors import form_specs, form_states
from subscribers.services.preferences import NotAMember, NotOnForm, preferences_save

from .. import selectors
from ..exports import export_response
from . import serializers as s
from .authentication import ApiKeyAuthentication
from .exceptions import exception_handler
from .pagination import MemberCursorPagination
from .permissions import ApiKeyScope, LinksScope, links_allowed
from .throttling import ApiKeyRateThrottle

# What the serializers read, `mailable`'s fields included (no query per member).
MEMBER_FIELDS = (
    "id",
    "imis_id",
    "email",
    "first_name",
    "last_name",
    "token_version",
    "active",
    "exclude_mail",
    "status",
    "language",  # the links carry it
)


LINKS_ONLY = "Needs a key that may read personal links (403 otherwise)."


def _errors(*codes):
    described = {
        400: "Invalid request: `detail` says what, `errors` says where.",
        401: "No API key, an unknown key, or a revoked key.",
        403: "The key may not do this: a read-only key, a key that may not read personal links, or a key "
        "whose creator may no longer do it.",
        404: "Not found.",
        429: "Too many requests for this key: wait `Retry-After` seconds.",
    }
    return {code: OpenApiResponse(s.ErrorSerializer, description=described[code]) for code in codes}


READ_ERRORS = _errors(401, 429)


class MailingApiMixin:
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [ApiKeyScope]
    throttle_classes = [ApiKeyRateThrottle]

    def get_exception_handler(self):
        return exception_handler

    def finalize_response(self, request, response, *args, **kwargs):
        # Members' addresses and personal links (credentials): no copy in a proxy or a client cache.
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True)
        return response


def _group_or_error(**ids):
    try:
        return selectors.target_group_build(**ids)
    except selectors.InvalidTargetGroup as exc:
        raise ValidationError(str(exc)) from None


def _single_group(pk):
    try:
        return selectors.target_group_build(any_of=[pk])
    except selectors.InvalidTargetGroup:
        raise NotFound(f"No target group {pk}: not an interest on the form.") from None


def _combination(request):
    query = s.CombinationQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return _group_or_error(**query.validated_data)


class InterestList(MailingApiMixin, APIView):
    @extend_schema(
        operation_id="interests_list",
        summary="Interests on the form",
        description="The interests members see, in form order, each with the size of its target group.",
        responses={200: s.InterestSerializer(many=True), **READ_ERRORS},
        tags=["interests"],
    )
    def get(self, request):
        return Response(s.InterestSerializer(selectors.target_groups_with_sizes(), many=True).data)


class TargetGroupList(MailingApiMixin, APIView):
    @extend_schema(
        operation_id="target_groups_list",
        summary="Target groups",
        description="One target group per interest on the form: the mailable members with it on.",
        responses={200: s.TargetGroupSerializer(many=True), **READ_ERRORS},
        tags=["target groups"],
    )
    def get(self, request):
        return Response(s.TargetGroupSerializer(selectors.target_groups_with_sizes(), many=True).data)


class TargetGroupDetail(MailingApiMixin, APIView):
    @extend_schema(
        operation_id="target_groups_retrieve",
        summary="A target group and its size",
        responses={200: s.TargetGroupSerializer, **_errors(401, 404, 429)},
        tags=["target groups"],
    )
    def get(self, request, pk):
        interest = selectors.target_groups_with_sizes().filter(pk=pk).first()
        if interest is None:
            raise NotFound(f"No target group {pk}: not an interest on the form.")
        return Response(s.TargetGroupSerializer(interest).data)


class _MembersView(MailingApiMixin, generics.ListAPIView):
    serializer_class = s.GroupMemberSerializer
    pagination_class = MemberCursorPagination

    def group(self):
        raise NotImplementedError

    def get_queryset(self):
        return selectors.target_group_members(group=self.group()).only(*MEMBER_FIELDS)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "links": links_allowed(self.request)}


class TargetGroupMembers(_MembersView):
    def group(self):
        return _single_group(self.kwargs["pk"])

    @extend_schema(
        operation_id="target_groups_members",
        summary="Members of a target group, with their personal links",
        description="Cursor-paginated by iMIS ID: follow `next` until it is null.",
        responses={200: s.GroupMemberSerializer(many=True), **_errors(401, 404, 429)},
        tags=["target groups"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TargetGroupExport(MailingApiMixin, APIView):
    permission_classes = [ApiKeyScope, LinksScope]

    @extend_schema(
        operation_id="target_groups_export",
        summary="A target group as CSV",
        description="Streamed CSV: imis_id, email, first_name, last_name, preference_url, one_click_url, language. "
        + LINKS_ONLY,
        responses={(200, "text/csv"): OpenApiTypes.STR, **_errors(401, 403, 404, 429)},
        tags=["target groups"],
    )
    def get(self, request, pk):
        return export_response(_single_group(pk))


class CombinationDetail(MailingApiMixin, APIView):
    @extend_schema(
        operation_id="combinations_retrieve",
        summary="Size of a combination of target groups",
        description="Members with ANY of `any_of` on, ALL of `all_of` on, and NONE of `none_of` on.",
        parameters=[s.CombinationQuerySerializer],
        responses={200: s.CombinationSerializer, **_errors(400, 401, 429)},
        tags=["target groups"],
    )
    def get(self, request):
        group = _combination(request)
        size = selectors.target_group_members(group=group).aggregate(n=Count("pk"))["n"]
        data = {
            "any_of": group.any_of,
            "all_of": group.all_of,
            "none_of": group.none_of,
            "description": group.describe(),
            "size": size,
        }
        return Response(s.CombinationSerializer(data).data)


class CombinationMembers(_MembersView):
    def group(self):
        return _combination(self.request)

    @extend_schema(
        operation_id="combinations_members",
        summary="Members of a combination, with their personal links",
        description="Cursor-paginated by iMIS ID: follow `next` until it is null.",
        parameters=[s.CombinationQuerySerializer],
        responses={200: s.GroupMemberSerializer(many=True), **_errors(400, 401, 404, 429)},
        tags=["target groups"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CombinationExport(MailingApiMixin, APIView):
    permission_classes = [ApiKeyScope, LinksScope]

    @extend_schema(
        operation_id="combinations_export",
        summary="A combination as CSV",
        description=LINKS_ONLY,
        parameters=[s.CombinationQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR, **_errors(400, 401, 403, 429)},
        tags=["target groups"],
    )
    def get(self, request):
        return export_response(_combination(request))


def _active_member(imis_id):
    return get_object_or_404(Subscriber.objects.only(*MEMBER_FIELDS), imis_id=imis_id, active=True)


def _member_data(subscribers, request):
    states = form_states(subscriber_ids=[subscriber.pk for subscriber in subscribers])
    context = {"states": states, "links": links_allowed(request)}
    return s.MemberSerializer(subscribers, many=True, context=context).data


class MemberDetail(MailingApiMixin, APIView):
    @extend_schema(
        operation_id="members_retrieve",
        summary="A member's preferences and personal links, by iMIS ID",
        responses={200: s.MemberSerializer, **_errors(401, 404, 429)},
        tags=["members"],
    )
    def get(self, request, imis_id):
        return Response(_member_data([_active_member(imis_id)], request)[0])


class MemberLookup(MailingApiMixin, APIView):
    read_only = True  # a read: POST only keeps the address out of URLs and access logs

    @extend_schema(
        operation_id="members_lookup",
        summary="Find members by email address",
        description="POST (not GET) so the address never appears in a URL or an access log.",
        request=s.LookupSerializer,
        responses={200: s.LookupResultSerializer, **_errors(400, 401, 429)},
        tags=["members"],
    )
    def post(self, request):
        query = s.LookupSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        members = list(
            Subscriber.objects.filter(active=True, email__iexact=query.validated_data["email"])
            .only(*MEMBER_FIELDS)
            .order_by("imis_id")[:50]
        )
        return Response({"results": _member_data(members, request)})


class MemberPreferences(MailingApiMixin, APIView):
    @extend_schema(
        operation_id="members_preferences_update",
        summary="Set a member's preferences",
        description=(
            "Sets the listed interests; the others keep their value. Written like a member's own save: "
            "history (source `api`) and the push to iMIS. An interest not on the form refuses the whole "
            "request (400) and saves nothing. Needs a read-write key."
        ),
        request=s.PreferencesUpdateSerializer,
        responses={200: s.PreferencesUpdateResultSerializer, **_errors(400, 401, 403, 404, 429)},
        tags=["members"],
    )
    def patch(self, request, imis_id):
        subscriber = _active_member(imis_id)
        body = s.PreferencesUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wanted = {choice["interest_id"]: choice["value"] for choice in body.validated_data["preferences"]}
        specs = form_specs()
        unknown = sorted(set(wanted) - {spec.id for spec in specs})
        if unknown:
            raise ValidationError(
                {"preferences": [f"Not an interest on the form: {', '.join(map(str, unknown))}. Nothing was saved."]}
            )
        api_key = request.auth
        try:
            changes = preferences_save(
                subscriber=subscriber,
                wanted=wanted,
                source=PreferenceChange.Source.API,
                user_agent=request.headers.get("User-Agent", ""),
                specs=specs,
                note=f"API key {api_key.prefix} ({api_key.name})"[:255],
            )
        except NotOnForm as exc:  # the form changed between our read and the save
            raise ValidationError({"preferences": [f"{exc}. Nothing was saved."]}) from None
        except NotAMember:  # left the roster meanwhile
            raise NotFound("No active member with this iMIS ID.") from None
        return Response(
            {"changed": [change.interest_id for change in changes], "member": _member_data([subscriber], request)[0]}
        )
