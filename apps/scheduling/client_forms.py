"""Forms of online booking (SCH-5): confirming a booking. Sign-in reuses the member centre's forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class BookingConfirmForm(forms.Form):
    """The last step. ``name`` is asked only of a new client (the phone is already proven by its code)."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    notes = forms.CharField(
        label=_("Notes for the salon (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: object, new_client: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if new_client:
            self.fields["name"].required = True
        else:
            del self.fields["name"]
