"""How a history row reads to staff: the interest's label, old → new, who, and the IP as it was kept."""

import ipaddress

from django.utils import timezone
from django.utils.formats import date_format

from ..models import PreferenceChange, on_off

# Who made a change that no staff user made, by source.
_WHO_BY_SOURCE = {
    PreferenceChange.Source.FORM: "the member",
    PreferenceChange.Source.ONE_CLICK: "the member",
    PreferenceChange.Source.API: "the mailing system (API)",
    PreferenceChange.Source.IMIS: "iMIS",
    PreferenceChange.Source.ADMIN: "staff",
}


def change_text(change: PreferenceChange) -> str:
    return f"{on_off(change.old_value)} → {on_off(change.new_value)}"


def who_text(change: PreferenceChange) -> str:
    user = change.changed_by
    if user is not None:
        return user.get_full_name() or user.get_username()
    return _WHO_BY_SOURCE.get(change.source, change.source)


def ip_text(ip: str | None) -> str:
    """The IP as kept: PREFERENCES_IP_POLICY "anonymised" keeps only the network (a.b.c.0 of a /24, the /48
    of IPv6); shown as that network, so nobody takes 127.0.0.0 for a real client's address. (A real address
    that is its network's first, kept in full, reads as anonymised too: rare, and on the safe side.)"""
    if not ip:
        return "—"
    address = ipaddress.ip_address(ip)
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    if network.network_address == address:
        return f"{network} (anonymised)"
    return str(address)


def outbox_text(change: PreferenceChange) -> str:
    """Where the change is on its way to iMIS: "done (SEQN 123)", "failed after 5 attempts", "pending, next
    attempt 10:42"."""
    state = change.get_state_display()
    if change.state == PreferenceChange.State.DONE and change.activity_seqn is not None:
        return f"{state} (SEQN {change.activity_seqn})"
    if change.state == PreferenceChange.State.FAILED:
        return f"{state} after {change.attempts} attempt{'s' if change.attempts != 1 else ''}"
    if change.state in (PreferenceChange.State.PENDING, PreferenceChange.State.SENDING) and change.next_attempt_at:
        at = date_format(timezone.localtime(change.next_attempt_at), "DATETIME_FORMAT")
        return f"{state}, attempt {change.attempts}, next {at}"
    return state
