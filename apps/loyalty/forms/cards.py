"""Forms of the member-card tab: issue a card, and the status changes (each with its reason)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.loyalty.models import CardType

NUMBER_HELP = _("Leave empty to generate a 10-digit number. Letters, digits and dashes; spaces are ignored.")


class CardIssueForm(forms.Form):
    number = forms.CharField(label=_("Card number"), max_length=64, required=False, help_text=NUMBER_HELP)
    card_type = forms.ChoiceField(label=_("Card type"), choices=CardType.choices, initial=CardType.PHYSICAL)
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for a card that does not expire."),
    )


class CardReasonForm(forms.Form):
    """A change that needs a reason (loss report, freeze, cancellation); the label says which."""

    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, label: str = "", **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if label:
            self.fields["reason"].label = label


class CardNoteForm(CardReasonForm):
    """A change where the reason is optional (unfreeze)."""

    reason = forms.CharField(label=_("Note"), max_length=200, required=False)


class CardReissueForm(forms.Form):
    number = forms.CharField(label=_("New card number"), max_length=64, required=False, help_text=NUMBER_HELP)
    reason = forms.CharField(label=_("Why is it reissued?"), max_length=200, required=False)
