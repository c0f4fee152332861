from django import forms

from interests.selectors import interests_on_form


class CombinationForm(forms.Form):
    """Staff pick a combination of target groups: any of / all of / minus."""

    any_of = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label="Members with any of"
    )
    all_of = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label="…and with all of"
    )
    none_of = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label="…minus members with any of"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(interest.pk, interest.display_label) for interest in interests_on_form()]
        for name in ("any_of", "all_of", "none_of"):
            self.fields[name].choices = choices


class ChartForm(forms.Form):
    period = forms.ChoiceField(choices=[("day", "by day"), ("week", "by week")], required=False, initial="day")
    days = forms.TypedChoiceField(
        coerce=int,
        choices=[(30, "last 30 days"), (90, "last 90 days"), (365, "last year")],
        required=False,
        initial=90,
    )
