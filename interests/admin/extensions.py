"""What the apps above interests add to its admin, so that interests imports none of them (tests/test_layout.py).

The interests list shows what members make of an interest (subscribers: how many have it on) and what
the sync did (the last discovery, the "Refresh from iMIS" button); the member form's preview is the
subscribers' page. Those apps register here, from their own admin modules, which Django imports after
this one (INSTALLED_APPS order)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class Column:
    """A column of the interests list: `annotate` adds `name` to the list's queryset (one query for the
    page, not one per row); `description` is its heading."""

    name: str
    description: str
    annotate: Callable[[QuerySet], QuerySet]


@dataclass(frozen=True)
class View:
    """A page under the interests admin, reached as `admin:interests_remoteinterest_<name>`; `view` is
    called with the request and the interests' ModelAdmin (for its permission checks)."""

    route: str
    name: str
    view: Callable[[HttpRequest, object], HttpResponse]
    label: str = ""  # a link among the list's buttons, when set


columns: list[Column] = []
views: list[View] = []
# Each returns template context for the interests list, e.g. the last discovery run.
changelist_context: list[Callable[[HttpRequest, object], dict]] = []


def add_column(column: Column) -> None:
    if column.name not in {c.name for c in columns}:
        columns.append(column)


def add_view(view: View) -> None:
    if view.name not in {v.name for v in views}:
        views.append(view)


def add_changelist_context(provider: Callable[[HttpRequest, object], dict]) -> None:
    if provider not in changelist_context:
        changelist_context.append(provider)
