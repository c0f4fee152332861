"""Reads of members and their preferences (HackSoft style: selectors read, services write)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Count, FilteredRelation, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import get_language

from interests.models import RemoteInterest, display_label
from preference_center.lib.translated import translated

from . import tokens
from .models import Preference, Subscriber, mailable_q


@dataclass(frozen=True)
class InterestSpec:
    """What the form shows of one interest: the same for every member (cacheable)."""

    id: int
    label: str
    description: str
    group: str

    @property
    def field_name(self):
        return f"interest_{self.id}"

    @property
    def label_shown(self):
        """The text the member saw and agreed to, kept with each change."""
        return f"{self.label}: {self.description}" if self.description else self.label


@dataclass(frozen=True)
class FormState:
    """The interests on the form, in staff order, and this member's current value of each."""

    specs: tuple[InterestSpec, ...]
    values: dict[int, bool]

    @property
    def by_id(self):
        return {spec.id: spec for spec in self.specs}


def form_specs() -> tuple[InterestSpec, ...]:
    """The interests on the form, as every member sees them (the admin's preview)."""
    return form_state(subscriber_id=None).specs


def form_states(*, subscriber_ids, specs: tuple[InterestSpec, ...] | None = None) -> dict[int, FormState]:
    """form_state of several members, in two queries whatever their number: the interests (unless `specs`
    gives them), their ticks."""
    specs = form_specs() if specs is None else specs
    ticked = {sid: set() for sid in subscriber_ids}
    for sid, interest_id in Preference.objects.filter(
        subscriber_id__any=list(ticked), interest_id__any=[spec.id for spec in specs], value=True
    ).values_list("subscriber_id", "interest_id"):
        ticked[sid].add(interest_id)
    return {
        sid: FormState(specs=specs, values={spec.id: spec.id in on for spec in specs}) for sid, on in ticked.items()
    }


# What the form shows of an interest: the columns specs_of reads, in the ORM's and the SQL's order.
_SPEC_COLUMNS = (
    "id",
    "label",
    "prompt",
    "field_name",
    "description",
    "group",
    "label_fr",
    "description_fr",
    "group_fr",
)


@functools.lru_cache(maxsize=32)
def specs_of(rows: tuple[tuple, ...], language: str | None) -> tuple[InterestSpec, ...]:
    """InterestSpec of each row (_SPEC_COLUMNS) in `language`: French where staff wrote it, else the default
    language. A group's French heading, written on any of its interests, heads the whole group.

    The same configuration and language give the same tuple object: the caches keyed by it (the form's
    markup, its form class) find their entry by identity instead of comparing every interest on every
    request."""
    interests = [dict(zip(_SPEC_COLUMNS, row, strict=True)) for row in rows]
    headings = {}  # a group's heading in `language`, as staff wrote it on any of the group's interests
    for i in interests:
        heading = translated(i, "group", language)
        if heading != i["group"]:
            headings.setdefault(i["group"], heading)
    return tuple(
        InterestSpec(
            i["id"],
            translated(i, "label", language) or display_label(i["label"], i["prompt"], i["field_name"]),
            translated(i, "description", language),
            headings.get(i["group"], i["group"]),
        )
        for i in interests
    )


def form_state(*, subscriber_id: int | None) -> FormState:
    """The interests on the form (visible and present in iMIS, by position) in the active language, with the
    member's values, in one query whatever the number of interests. No Preference row reads as unticked."""
    rows = list(
        RemoteInterest.objects.on_form()
        .annotate(mine=FilteredRelation("preferences", condition=Q(preferences__subscriber_id=subscriber_id)))
        .order_by("position", "id")
        .values_list(*_SPEC_COLUMNS, "mine__value")
    )
    specs = specs_of(tuple(row[:-1] for row in rows), get_language())
    return FormState(specs=specs, values={row[0]: bool(row[-1]) for row in rows})


@functools.cache
def _member_form_sql() -> str:
    """The member, the interests on the form and the member's values, in one statement (see member_form)."""
    quote = connection.ops.quote_name
    subscriber, interest, preference = (quote(m._meta.db_table) for m in (Subscriber, RemoteInterest, Preference))
    # The names come from the models and are quoted; the member's id is a parameter.
    return (
        "SELECT s.id, s.imis_id, s.email, s.first_name, s.token_version, s.exclude_mail, "  # noqa: S608
        f"{', '.join(f'i.{quote(column)}' for column in _SPEC_COLUMNS)}, p.value "
        f"FROM {subscriber} s "
        f"LEFT JOIN {interest} i ON i.visible AND i.present_in_imis "  # RemoteInterestQuerySet.on_form
        f"LEFT JOIN {preference} p ON p.subscriber_id = s.id AND p.interest_id = i.id "
        "WHERE s.id = %s AND s.active "
        "ORDER BY i.position, i.id"
    )


def member_form(token: str) -> tuple[Subscriber, FormState] | None:
    """The member a personal link names and their form (form_state), in one query: the member's pages are
    what a mailing day hammers (scanners prefetch every link), and two ORM queries cost more than the page.
    None for a forged, rotated or unknown link (a forged one costs no query)."""
    payload = tokens.read_token(token)
    return None if payload is None else member_form_of(payload)


def member_form_of(payload: tokens.LinkPayload) -> tuple[Subscriber, FormState] | None:
    """member_form of a link already read: None for a rotated or unknown link, or a member who left."""
    with connection.cursor() as cursor:
        cursor.execute(_member_form_sql(), [payload.subscriber_id])
        rows = cursor.fetchall()
    if not rows or rows[0][4] != payload.token_version:
        return None
    sid, imis_id, email, first_name, token_version, exclude_mail = rows[0][:6]
    # As if loaded with .only(): the other fields are deferred.
    subscriber = Subscriber.from_db(
        connection.alias,
        ["id", "imis_id", "email", "first_name", "exclude_mail", "active", "token_version"],
        [sid, imis_id, email, first_name, exclude_mail, True, token_version],
    )
    interests = [row[6:] for row in rows if row[6] is not None]  # no interest on the form: one row of NULLs
    specs = specs_of(tuple(row[:-1] for row in interests), get_language())
    return subscriber, FormState(specs=specs, values={row[0]: bool(row[-1]) for row in interests})


def mailable_subscribers():
    """Members who may be offered links: active, with an address, not excluded from mail. By iMIS ID."""
    return Subscriber.objects.filter(mailable_q()).order_by("imis_id")


def subscribers_for_address(email: str):
    """Mailable members whose address is `email` (case-insensitively): several may share one."""
    email = (email or "").strip()
    if not email:
        return Subscriber.objects.none()
    return mailable_subscribers().filter(email__iexact=email)


def mask_email(email: str) -> str:
    """j•••@example.org: enough for members to recognise their address, not enough to harvest it."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return (local[:1] + "•••") if local else ""
    return f"{local[:1]}•••@{domain}"


def interests_without_ud_row(*, subscriber_id: int) -> set[int]:
    """Ids of the interests on the form whose UD table has no row for this member, according to the last
    pull: a choice of theirs cannot reach iMIS until iMIS staff create the row. Empty when the push creates
    missing rows itself (IMIS_CREATE_MISSING_UD_ROWS). One query for a member with every row."""
    if settings.IMIS_CREATE_MISSING_UD_ROWS:
        return set()
    # Through the reverse relation: the sync records these rows (sync.MissingUdRow), members do not import it.
    seen = Subscriber.objects.filter(pk=subscriber_id, missing_ud_rows__isnull=False)
    tables = {t.lower() for t in seen.values_list("missing_ud_rows__table_name", flat=True)}
    if not tables:
        return set()
    on_form = RemoteInterest.objects.on_form().values_list("id", "table_name")
    return {pk for pk, table_name in on_form if table_name.lower() in tables}


def interests_with_audience(
    queryset: QuerySet[RemoteInterest] | None = None, *, name: str = "audience"
) -> QuerySet[RemoteInterest]:
    """Interests annotated with `name`, the size of their target group: the mailable members who have the
    interest on. The one count of it (the interests admin, mailing's target groups and API).

    One correlated subquery per row of the same statement, so a page of interests costs one query
    whatever its length; it walks the (interest, value) index of Preference."""
    queryset = RemoteInterest.objects.all() if queryset is None else queryset
    counts = (
        Preference.objects.filter(mailable_q("subscriber__"), interest=OuterRef("pk"), value=True)
        .order_by()
        .values("interest")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(**{name: Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))})
