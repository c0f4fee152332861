"""Reads for the mailing system: target groups and their combinations, the rows of an export, the
numbers behind the admin's charts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from interests.models import RemoteInterest
from interests.selectors import interests_on_form
from subscribers.models import Preference, PreferenceChange, Subscriber, mailable_q
from subscribers.selectors import interests_with_audience
from subscribers.services.links import CSV_HEADER, link_rows

from .models import SavedTargetGroup

EXPORT_CHUNK_SIZE = 2000
EXPORT_COLUMNS = CSV_HEADER


class InvalidTargetGroup(ValueError):
    """A combination that names interests not on the form, or names none to mail."""


def target_groups_with_sizes() -> QuerySet[RemoteInterest]:
    """The interests on the form annotated with `size`, the members a mailing to each reaches. One query."""
    return interests_with_audience(interests_on_form(), name="size")


@dataclass(frozen=True)
class TargetGroupSpec:
    """Members with ANY of `any_of` on, and ALL of `all_of` on, and NONE of `none_of` on (all interest ids).

    A single interest is `TargetGroupSpec(any_of=(id,))`."""

    any_of: tuple[int, ...] = ()
    all_of: tuple[int, ...] = ()
    none_of: tuple[int, ...] = ()
    labels: dict[int, str] = field(default_factory=dict, compare=False, hash=False)

    def describe(self) -> str:
        def names(ids):
            return ", ".join(self.labels.get(pk, str(pk)) for pk in ids)

        parts = []
        if self.any_of:
            parts.append(names(self.any_of) if len(self.any_of) == 1 else f"any of ({names(self.any_of)})")
        if self.all_of:
            parts.append(f"all of ({names(self.all_of)})")
        text = " and ".join(parts)
        if self.none_of:
            text += f", minus ({names(self.none_of)})"
        return text

    def parts(self) -> dict[str, tuple[int, ...]]:
        return {"any_of": self.any_of, "all_of": self.all_of, "none_of": self.none_of}

    def query_string(self) -> str:
        from urllib.parse import urlencode

        return urlencode(
            [("any_of", pk) for pk in self.any_of]
            + [("all_of", pk) for pk in self.all_of]
            + [("none_of", pk) for pk in self.none_of]
        )


def target_group_build(
    *,
    any_of: Iterable[int] = (),
    all_of: Iterable[int] = (),
    none_of: Iterable[int] = (),
    on_form: Mapping[int, RemoteInterest] | None = None,
) -> TargetGroupSpec:
    """A checked TargetGroupSpec: every id is an interest on the form, and at least one of `any_of`/`all_of` is
    given (a mailing goes to members who asked for something). Raises InvalidTargetGroup with a message
    that says what is wrong. `on_form`: the interests on the form by id, when the caller checks several
    groups (read once, not once per group)."""

    def unique(ids):
        return tuple(dict.fromkeys(int(pk) for pk in ids))

    any_of, all_of, none_of = unique(any_of), unique(all_of), unique(none_of)
    if not any_of and not all_of:
        raise InvalidTargetGroup("Choose at least one interest in any_of or all_of.")
    named = {*any_of, *all_of, *none_of}
    found = interests_on_form().in_bulk(named) if on_form is None else on_form
    labels = {pk: found[pk].display_label for pk in sorted(named) if pk in found}
    unknown = sorted(named - labels.keys())
    if unknown:
        raise InvalidTargetGroup(
            f"Not an interest on the form: {', '.join(map(str, unknown))}. See the list of interests for valid ids."
        )
    both = sorted(({*any_of, *all_of}) & set(none_of))
    if both:
        raise InvalidTargetGroup(f"Interest {', '.join(map(str, both))} is both wanted and excluded.")
    return TargetGroupSpec(any_of=any_of, all_of=all_of, none_of=none_of, labels=labels)


def target_group_members(*, group: TargetGroupSpec) -> QuerySet[Subscriber]:
    """The mailable members of the group, by iMIS ID: one SQL query (EXISTS subqueries on the
    (subscriber, interest) unique index), whatever the number of interests combined."""
    on = Preference.objects.filter(subscriber=OuterRef("pk"), value=True)
    members = Subscriber.objects.filter(mailable_q())
    if group.any_of:
        members = members.filter(Exists(on.filter(interest_id__in=group.any_of)))
    for pk in group.all_of:
        members = members.filter(Exists(on.filter(interest_id=pk)))
    if group.none_of:
        members = members.exclude(Exists(on.filter(interest_id__in=group.none_of)))
    return members.order_by("imis_id")


def export_rows(*, group: TargetGroupSpec, chunk_size: int = EXPORT_CHUNK_SIZE) -> Iterator[tuple[str, ...]]:
    """The group's members as export rows (EXPORT_COLUMNS), read in chunks: memory stays flat whatever the
    group's size."""
    return link_rows(target_group_members(group=group), chunk_size=chunk_size)


# --- Saved target groups ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedGroupState:
    """A saved target group as it stands now: its combination, or why it cannot be mailed (an interest it
    names left the form), and its size when asked for."""

    saved: SavedTargetGroup
    spec: TargetGroupSpec | None
    problem: str = ""
    size: int | None = None


def saved_target_groups() -> QuerySet[SavedTargetGroup]:
    """Every saved target group, by name, with its interests (three queries whatever their number)."""
    return SavedTargetGroup.objects.prefetch_related("any_of", "all_of", "none_of").order_by("name")


def saved_target_group_states() -> list[SavedGroupState]:
    """Every saved group's state, sized: the interests on the form read once, then a COUNT per group."""
    on_form = interests_on_form().in_bulk()
    return [saved_target_group_state(saved=saved, on_form=on_form) for saved in saved_target_groups()]


def saved_target_group_state(*, saved: SavedTargetGroup, with_size: bool = True, on_form=None) -> SavedGroupState:
    """The group's combination checked against the form now (target_group_build, `on_form` as there) and, if
    asked, its size: one COUNT query."""
    try:
        spec = target_group_build(
            any_of=[i.pk for i in saved.any_of.all()],
            all_of=[i.pk for i in saved.all_of.all()],
            none_of=[i.pk for i in saved.none_of.all()],
            on_form=on_form,
        )
    except InvalidTargetGroup as exc:
        return SavedGroupState(saved=saved, spec=None, problem=str(exc))
    size = target_group_members(group=spec).aggregate(n=Count("pk"))["n"] if with_size else None
    return SavedGroupState(saved=saved, spec=spec, size=size)


# --- Charts ----------------------------------------------------------------------------------------------

PERIODS = {"day": TruncDate, "week": TruncWeek}


@dataclass(frozen=True)
class OptSeries:
    label: str
    opt_ins: list[int]
    opt_outs: list[int]


@dataclass(frozen=True)
class OptChart:
    period: str
    buckets: list[date]
    series: list[OptSeries]


def _bucket_start(day: date, period: str) -> date:
    return day - timedelta(days=day.weekday()) if period == "week" else day


def opt_in_out_chart(*, period: str = "day", days: int = 90, now: datetime | None = None) -> OptChart:
    """Opt-ins and opt-outs per interest on the form, per day or week (Monday), over the last `days` days,
    counted from the history (every source: the form, one-click, staff, the API, iMIS). One query;
    buckets without changes are zeros, so the x axis is continuous."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    first = _bucket_start(timezone.localdate(now) - timedelta(days=days - 1), period)
    step = timedelta(days=7 if period == "week" else 1)
    buckets, day = [], first
    while day <= timezone.localdate(now):
        buckets.append(day)
        day += step
    index = {bucket: i for i, bucket in enumerate(buckets)}

    interests = list(interests_on_form())
    series = {i.pk: OptSeries(i.display_label, [0] * len(buckets), [0] * len(buckets)) for i in interests}
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()), tz)
    rows = (
        PreferenceChange.objects.filter(created_at__gte=start, interest_id__in=series.keys())
        .annotate(bucket=PERIODS[period]("created_at", tzinfo=tz))
        .values_list("interest_id", "bucket", "new_value")
        .annotate(n=Count("id"))
        .order_by()
    )
    for interest_id, bucket, new_value, n in rows:
        if isinstance(bucket, datetime):
            bucket = bucket.date()
        position = index.get(_bucket_start(bucket, period))
        if position is None:
            continue
        (series[interest_id].opt_ins if new_value else series[interest_id].opt_outs)[position] += n
    return OptChart(period=period, buckets=buckets, series=[series[i.pk] for i in interests])
