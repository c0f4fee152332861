"""Discovery: bring RemoteInterest in line with the checkbox fields iMIS has now (what the gateway read;
sync.services.discovery reads it and records the run)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from preference_center import imis

from ..models import RemoteInterest, SkippedImisField
from ..signals import interests_changed
from .ordering import interests_regroup


@dataclass
class DiscoveryOutcome:
    """What one discovery changed, as `table.field` names (the run's counts are their lengths)."""

    found: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # spelling, prompt or micro help changed in iMIS
    returned: list[str] = field(default_factory=list)  # back in iMIS after having disappeared
    missing: list[str] = field(default_factory=list)  # newly marked present_in_imis=False
    skipped: list[imis.SkippedField] = field(default_factory=list)

    @property
    def counts(self):
        return {
            "found": self.found,
            "added": len(self.added),
            "updated": len(self.updated),
            "returned": len(self.returned),
            "missing": len(self.missing),
            "skipped": len(self.skipped),
        }

    @property
    def summary(self):
        c = self.counts
        return (
            f"{c['found']} checkbox fields found: {c['added']} added, {c['updated']} updated, "
            f"{c['returned']} back in iMIS, {c['missing']} no longer in iMIS, {c['skipped']} fields skipped"
        )


def _key(table_name, field_name):
    return table_name.lower(), field_name.lower()


def _follow(current, old_imis_text, new_imis_text):
    """Staff text that still equals what iMIS said follows iMIS; text staff wrote is kept."""
    return new_imis_text if current == old_imis_text else current


_DISCOVERED_FIELDS = ["table_name", "field_name", "prompt", "micro_help", "label", "description"]


@transaction.atomic
def interests_apply_discovery(*, discovery: imis.Discovery, seen_at=None) -> DiscoveryOutcome:
    """Upsert every discovered checkbox field, mark the vanished ones, replace the skipped list.

    New interests start hidden, labelled with the iMIS prompt and described by its micro help, after the
    existing ones. Nothing is ever deleted: staff settings survive a field's absence and return."""
    seen_at = seen_at or timezone.now()
    outcome = DiscoveryOutcome(found=len(discovery.interests), skipped=list(discovery.skipped))
    existing = {_key(i.table_name, i.field_name): i for i in RemoteInterest.objects.select_for_update()}
    next_position = (RemoteInterest.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    seen_keys = set()
    to_create, to_update = [], []

    for found in discovery.interests:
        key = _key(found.table_name, found.field_name)
        if key in seen_keys:
            continue  # metadata listing one field twice in different cases
        seen_keys.add(key)
        interest = existing.get(key)
        if interest is None:
            to_create.append(_new_interest(found, position=next_position, seen_at=seen_at))
            next_position += 1
            outcome.added.append(f"{found.table_name}.{found.field_name}")
        else:
            _follow_imis(interest, found, seen_at=seen_at, outcome=outcome)
            to_update.append(interest)

    for key, interest in existing.items():
        if key not in seen_keys and interest.present_in_imis:
            interest.present_in_imis = False
            to_update.append(interest)
            outcome.missing.append(interest.imis_name)

    RemoteInterest.objects.bulk_update(
        to_update, [*_DISCOVERED_FIELDS, "present_in_imis", "last_seen_at"], batch_size=500
    )
    RemoteInterest.objects.bulk_create(to_create, batch_size=500)
    if to_create:  # after the others; a new interest joins its group where the form shows it
        interests_regroup()
    if outcome.added or outcome.updated or outcome.returned or outcome.missing:
        interests_changed.send(sender=RemoteInterest)  # not for last_seen_at alone: the form is the same
    _replace_skipped(discovery.skipped, seen_at=seen_at)
    return outcome


def _new_interest(found, *, position, seen_at):
    return RemoteInterest(
        table_name=found.table_name,
        field_name=found.field_name,
        prompt=found.prompt[:30],
        micro_help=found.micro_help[:255],
        label=found.prompt[:200],
        description=found.micro_help,
        position=position,
        visible=False,
        present_in_imis=True,
        last_seen_at=seen_at,
    )


def _follow_imis(interest, found, *, seen_at, outcome):
    """Bring a known interest in line with what iMIS says of it now, noting in `outcome` what changed."""
    changed = (
        interest.table_name != found.table_name
        or interest.field_name != found.field_name
        or interest.prompt != found.prompt[:30]
        or interest.micro_help != found.micro_help[:255]
    )
    if changed:
        interest.label = _follow(interest.label, interest.prompt, found.prompt[:200])
        interest.description = _follow(interest.description, interest.micro_help, found.micro_help)
        interest.table_name, interest.field_name = found.table_name, found.field_name
        interest.prompt, interest.micro_help = found.prompt[:30], found.micro_help[:255]
        outcome.updated.append(interest.imis_name)
    if not interest.present_in_imis:
        interest.present_in_imis = True
        outcome.returned.append(interest.imis_name)
    interest.last_seen_at = seen_at


def _replace_skipped(skipped, *, seen_at):
    SkippedImisField.objects.all().delete()
    SkippedImisField.objects.bulk_create(
        [
            SkippedImisField(
                table_name=s.table_name[:100], field_name=s.field_name[:100], reason=s.reason[:200], seen_at=seen_at
            )
            for s in skipped
        ],
        batch_size=500,
    )
