"""Staff changing a member's choices on the member's admin page (a member phones in)."""

from django import forms

from ..models import PreferenceChange, Subscriber
from ..selectors import FormState
from ..services.preferences import preferences_save

NOTE_FIELD = "staff_note"
NOTE_HELP = "Required: why, and at whose request (e.g. “phoned 2 May: no more event mail”). Kept in the history."


def choices_fieldnames(state: FormState) -> list[str]:
    return [spec.field_name for spec in state.specs] + [NOTE_FIELD]


def choices_form_class(state: FormState) -> type[forms.ModelForm]:
    """A form of the interests on the form, ticked as the member has them now, and a required note."""
    declared = {
        spec.field_name: forms.BooleanField(
            label=spec.label, required=False, initial=state.values.get(spec.id, False), help_text=spec.description
        )
        for spec in state.specs
    }
    declared[NOTE_FIELD] = forms.CharField(
        label="Note",
        max_length=PreferenceChange._meta.get_field("note").max_length,
        help_text=NOTE_HELP,
        widget=forms.TextInput(attrs={"size": 60}),
    )
    meta = type("Meta", (), {"model": Subscriber, "fields": list(declared)})
    return type("MemberChoicesForm", (forms.ModelForm,), {**declared, "Meta": meta})


def choices_save(*, form, state: FormState, subscriber: Subscriber, user) -> list[PreferenceChange]:
    """Save the boxes staff changed (against the member's committed values) through preferences_save:
    source "admin", the staff user and the note in the history, pushed to iMIS by the same outbox."""
    wanted = {
        spec.id: form.cleaned_data[spec.field_name] for spec in state.specs if spec.field_name in form.changed_data
    }
    return preferences_save(
        subscriber=subscriber,
        wanted=wanted,
        source=PreferenceChange.Source.ADMIN,
        note=form.cleaned_data[NOTE_FIELD],
        changed_by=user,
        specs=state.specs,
    )
