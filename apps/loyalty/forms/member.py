from __future__ import annotations

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.validators import normalize_phone


class MemberPhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel", "placeholder": "138 0013 8000"}
        ),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_phone(self) -> str:
        return normalize_phone(unicodedata.normalize("NFKC", self.cleaned_data["phone"]))


class MemberCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]*",
                "maxlength": "7",
            }
        ),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_code(self) -> str:
        # Full-width digits typed with a Chinese input method count as their ASCII forms.
        code = re.sub(r"\s", "", unicodedata.normalize("NFKC", self.cleaned_data["code"]))
        if not re.fullmatch(r"[0-9]{6}", code):
            raise ValidationError(_("Enter the 6-digit code from the text message."), code="invalid_code")
        return code
