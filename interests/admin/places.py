"""Where each interest sits on the member form, as the interests list says it: its group heading and its
rank among the interests members see under it."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html

from ..models import RemoteInterest
from ..services.ordering import form_order

# The heading the member form gives interests without a group (subscribers.forms.DEFAULT_GROUP, in English).
NO_GROUP = "Email topics"


@dataclass(frozen=True)
class Place:
    heading: str
    group_rank: int  # 1-based, among the groups of the list
    rank: int  # 1-based among the interests members see under the heading; 0: members do not see it
    shown: int  # how many members see under the heading
    first_of_group: bool

    def html(self):
        """The list's "on the form" cell. The group's heading is in the row's group field; a group's first
        row is marked (a rule above it) and says the heading members read when the group is empty."""
        where = f"{self.rank} of {self.shown}" if self.rank else "not shown"
        if not self.first_of_group:
            return format_html('<span class="group-rest">{}</span>', where)
        if self.heading == NO_GROUP:
            return format_html('<span class="group-start">{}</span><br><small>under “{}”</small>', where, NO_GROUP)
        return format_html('<span class="group-start">{}</span>', where)

    def sentence(self, label: str, moved: bool) -> str:
        verb = "is now" if moved else "stays"
        where = f"{self.rank} of {self.shown}" if self.rank else "not shown to members,"
        return f"“{label}” {verb} {where} under “{self.heading}” (group {self.group_rank})"


def places() -> dict[int, Place]:
    """{interest id: Place} for every interest, in one query."""
    interests = form_order(RemoteInterest.objects.order_by("position", "id"))
    shown_in: dict[str, int] = {}
    for interest in interests:
        if interest.visible and interest.present_in_imis:
            shown_in[interest.group] = shown_in.get(interest.group, 0) + 1
    found: dict[int, Place] = {}
    groups: list[str] = []
    ranks: dict[str, int] = {}
    for interest in interests:
        first = interest.group not in groups
        if first:
            groups.append(interest.group)
        shown = interest.visible and interest.present_in_imis
        if shown:
            ranks[interest.group] = ranks.get(interest.group, 0) + 1
        found[interest.pk] = Place(
            heading=interest.group or NO_GROUP,
            group_rank=len(groups) if first else groups.index(interest.group) + 1,
            rank=ranks[interest.group] if shown else 0,
            shown=shown_in.get(interest.group, 0),
            first_of_group=first,
        )
    return found


def order_payload(message: str) -> dict:
    """What the list's script needs after a move: a sentence, and every row's position and place."""
    now = places()
    rows = RemoteInterest.objects.order_by("position", "id").values_list("pk", "position")
    return {"message": message, "rows": [[pk, position, str(now[pk].html())] for pk, position in rows]}
