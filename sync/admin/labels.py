"""What staff read for the sync's raw keys: a run's counts and the changes' states."""

from subscribers.models import PreferenceChange

# SyncRun.counts keys (push, pull, discovery) as sentences' words; a key not listed reads with spaces.
COUNT_LABELS = {
    # push
    "claimed": "changes taken",
    "done": "reached iMIS",
    "failed": "failed",
    "not_needed": "not needed (iMIS had it already)",
    "retry_later": "to retry later (iMIS unreachable)",
    "refused": "refused by iMIS (retried)",
    "imis_transactions": "iMIS transactions",
    "batches": "batches",
    # pull
    "members_seen": "members seen",
    "members_created": "new members",
    "members_updated": "members updated",
    "members_reactivated": "members back in the roster",
    "members_deactivated": "members gone from the roster",
    "mailable": "members who may be sent links",
    "ud_rows_missing": "missing UD rows",
    "values_without_member": "values of unknown members (ignored)",
    "preferences_created": "choices first seen",
    "preferences_changed_in_imis": "choices changed in iMIS",
    "preferences_pushed_meanwhile": "changed in iMIS while ours was on its way",
    "preferences_local_kept": "kept ours (newer, still on its way to iMIS)",
    # discovery
    "found": "fields found",
    "added": "new interests",
    "updated": "interests updated",
    "returned": "interests back in iMIS",
    "missing": "interests gone from iMIS",
    "skipped": "fields skipped",
}


def count_label(key: str) -> str:
    return COUNT_LABELS.get(key) or key.replace("_", " ").replace("imis", "iMIS")


def counts_text(counts: dict) -> str:
    """A run's counts as staff read them: "new members 40, members updated 2"."""
    return ", ".join(f"{count_label(key)} {value}" for key, value in counts.items())


def state_label(state: str) -> str:
    return PreferenceChange.State(state).label if state in PreferenceChange.State.values else state
