from __future__ import annotations

import re
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class LettersAndDigitsPasswordValidator:
    """A password must mix letters and digits."""

    def validate(self, password: str, user: Any = None) -> None:
        if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
            raise ValidationError(_("The password must contain both letters and digits."), code="password_mix")

    def get_help_text(self) -> str:
        return _("Your password must contain both letters and digits.")


_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(raw: str) -> str:
    """Return the phone in E.164 form or raise ValidationError.

    Accepts a mainland China mobile (13800138000, +86 138 0013 8000) or any
    valid international number in E.164 form (+447700900123).
    """
    value = re.sub(r"[\s()-]", "", raw or "")
    if _MAINLAND_MOBILE.match(value):
        value = "+86" + value
    if not value.startswith("+"):
        raise ValidationError(
            _("Enter a mainland mobile number (11 digits) or an international number starting with +."),
            code="invalid_phone",
        )
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("This phone number is not valid."), code="invalid_phone")
    if parsed.country_code == 86 and not _MAINLAND_MOBILE.match(str(parsed.national_number)):
        raise ValidationError(_("Enter a mainland mobile number (11 digits)."), code="invalid_phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
