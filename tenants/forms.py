from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.services import ALLOWED_CURRENCIES


class SignupForm(forms.Form):
    """Shape only; tenants.validation.signup_validate applies the rules (shared with the API)."""

    salon_name = forms.CharField(label=_("Salon name"), max_length=200)
    subdomain = forms.CharField(
        # Checked as the person types (htmx), by the same rules signup applies.
        widget=forms.TextInput(
            attrs={
                "hx-get": "/signup/subdomain/",
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#id_subdomain-status",
                "hx-swap": "innerHTML",
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
        label=_("Subdomain"),
        max_length=100,
        help_text=_("3–30 lower-case letters, digits or hyphens: your address will be subdomain.%(domain)s"),
    )
    owner_name = forms.CharField(label=_("Your name"), max_length=200)
    owner_email = forms.CharField(label=_("E-mail"), max_length=254, widget=forms.EmailInput)
    owner_phone = forms.CharField(label=_("Mobile phone"), max_length=30, widget=forms.TextInput(attrs={"type": "tel"}))
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters with letters and digits."),
    )


def _timezone_choices() -> list[tuple[str, str]]:
    preferred = [
        "Asia/Shanghai",
        "Asia/Hong_Kong",
        "Asia/Taipei",
        "Asia/Singapore",
        "Asia/Tokyo",
        "Europe/London",
        "America/New_York",
        "America/Los_Angeles",
        "Australia/Sydney",
    ]
    rest = sorted(zoneinfo.available_timezones() - set(preferred))
    return [(z, z) for z in preferred + rest]


class SalonProfileForm(forms.Form):
    name = forms.CharField(label=_("Salon name"), max_length=100)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=_timezone_choices)
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in ALLOWED_CURRENCIES])
    logo = forms.FileField(label=_("Logo"), required=False, help_text=_("PNG, JPEG, WebP or GIF, at most 2 MB."))
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
