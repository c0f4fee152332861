from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from subscribers import tokens


class InterestSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The interest's id: use it in target groups and preferences.")
    label = serializers.CharField(source="display_label", help_text="What members see.")
    description = serializers.CharField()
    group = serializers.CharField(help_text="The heading it appears under on the form.")
    position = serializers.IntegerField()
    table = serializers.CharField(source="table_name", help_text="The iMIS UD table.")
    field = serializers.CharField(source="field_name", help_text="The iMIS checkbox field.")
    target_group_size = serializers.IntegerField(source="size", help_text="Mailable members with it on.")


class TargetGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The interest's id.")
    label = serializers.CharField(source="display_label")
    size = serializers.IntegerField(help_text="Mailable members (active, with an address) with the interest on.")


class IdListField(serializers.ListField):
    """Interest ids, repeated (`any_of=1&any_of=2`) or comma-separated (`any_of=1,2`)."""

    child = serializers.IntegerField(min_value=1, max_value=2**31 - 1)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [data]
        split = [part.strip() for item in data for part in str(item).split(",") if part.strip()]
        return super().to_internal_value(split)


class CombinationQuerySerializer(serializers.Serializer):
    any_of = IdListField(required=False, default=list, max_length=100, help_text="Members with any of these on.")
    all_of = IdListField(required=False, default=list, max_length=100, help_text="…and with all of these on.")
    none_of = IdListField(
        required=False, default=list, max_length=100, help_text="…minus members with any of these on."
    )


class CombinationSerializer(serializers.Serializer):
    any_of = serializers.ListField(child=serializers.IntegerField())
    all_of = serializers.ListField(child=serializers.IntegerField())
    none_of = serializers.ListField(child=serializers.IntegerField())
    description = serializers.CharField()
    size = serializers.IntegerField()


LINKS_NULL = (
    "; null unless the API key may read personal links (“may read personal links”, within its creator's "
    "“Can export target groups” permission), and null for a member who gets no links."
)


class LinksMixin(serializers.Serializer):
    """Personal links, null for a member who gets none (not `mailable`: no address, excluded from mail, a
    status LINK_STATUSES leaves out, gone from iMIS), and for every member when the key may not read links
    (context["links"], from permissions.links_allowed)."""

    preference_url = serializers.SerializerMethodField(
        allow_null=True, help_text="The member's personal link to the form" + LINKS_NULL
    )
    one_click_url = serializers.SerializerMethodField(
        allow_null=True, help_text="RFC 8058 one-click URL for List-Unsubscribe" + LINKS_NULL
    )

    def links_shown(self, subscriber) -> bool:
        """The one place that decides whether a member's links are in an answer."""
        return self.context.get("links", False) and subscriber.mailable

    @extend_schema_field(OpenApiTypes.URI)
    def get_preference_url(self, subscriber):
        return tokens.preference_url(subscriber) if self.links_shown(subscriber) else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_one_click_url(self, subscriber):
        return tokens.one_click_url(subscriber) if self.links_shown(subscriber) else None


class GroupMemberSerializer(LinksMixin):
    imis_id = serializers.CharField()
    email = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class PreferenceSerializer(serializers.Serializer):
    interest_id = serializers.IntegerField()
    label = serializers.CharField()
    value = serializers.BooleanField(help_text="True: the member wants mail about it.")


class MemberSerializer(GroupMemberSerializer):
    mailable = serializers.BooleanField(
        help_text="Gets personal links and mail: has an address, is not excluded from mail, and has a status "
        "that LINK_STATUSES allows."
    )
    preferences = serializers.SerializerMethodField()

    @extend_schema_field(PreferenceSerializer(many=True))
    def get_preferences(self, subscriber):
        state = self.context["states"][subscriber.pk]
        return [{"interest_id": spec.id, "label": spec.label, "value": state.values[spec.id]} for spec in state.specs]


class LookupSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=100, trim_whitespace=True, help_text="Matched case-insensitively.")


class LookupResultSerializer(serializers.Serializer):
    results = MemberSerializer(many=True, help_text="Active members with this address (several may share one).")


class PreferenceChoiceSerializer(serializers.Serializer):
    interest_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    value = serializers.BooleanField()


class PreferencesUpdateSerializer(serializers.Serializer):
    preferences = PreferenceChoiceSerializer(
        many=True, allow_empty=False, max_length=500, help_text="Interests not listed keep their value."
    )

    def validate_preferences(self, choices):
        ids = [choice["interest_id"] for choice in choices]
        repeated = sorted({pk for pk in ids if ids.count(pk) > 1})
        if repeated:
            raise serializers.ValidationError(f"Interest {', '.join(map(str, repeated))} is listed more than once.")
        return choices


class PreferencesUpdateResultSerializer(serializers.Serializer):
    changed = serializers.ListField(child=serializers.IntegerField(), help_text="Interests whose value changed.")
    member = MemberSerializer()


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")
    errors = serializers.DictField(required=False, help_text="Validation errors by field.")


class SavedTargetGroupSerializer(serializers.Serializer):
    """A selectors.SavedGroupState."""

    id = serializers.IntegerField(source="saved.pk")
    name = serializers.CharField(source="saved.name")
    any_of = serializers.SerializerMethodField(help_text="Members with any of these interests on…")
    all_of = serializers.SerializerMethodField(help_text="…and with all of these on…")
    none_of = serializers.SerializerMethodField(help_text="…minus members with any of these on.")
    description = serializers.SerializerMethodField()
    size = serializers.IntegerField(allow_null=True, help_text="Mailable members now; null when `problem` is set.")
    problem = serializers.CharField(help_text="Why it cannot be mailed now (an interest left the form); empty if fine.")

    def _ids(self, state, name) -> list[int]:
        return sorted(interest.pk for interest in getattr(state.saved, name).all())

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_any_of(self, state):
        return self._ids(state, "any_of")

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_all_of(self, state):
        return self._ids(state, "all_of")

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_none_of(self, state):
        return self._ids(state, "none_of")

    def get_description(self, state) -> str:
        return state.spec.describe() if state.spec else ""
