"""Forms of the waitlist and walk-in pages: input shape only; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Service
from apps.core.models import Location, User
from apps.crm.models import Client
from apps.crm.selectors import client_search

SERVICE_FIELDS = ("service_1", "service_2", "service_3")


def _service_field(label: Any, *, required: bool) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=label,
        queryset=Service.objects.none(),
        required=required,
        empty_label=None if required else _("(none)"),
    )


class _VisitForm(forms.Form):
    """The services of a visit in order (up to three here) and a technician."""

    service_1 = _service_field(_("Service"), required=True)
    service_2 = _service_field(_("Second service"), required=False)
    service_3 = _service_field(_("Third service"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        services = Service.objects.filter(is_active=True).order_by("sort_order", "name", "pk")
        for name in SERVICE_FIELDS:
            self.fields[name].queryset = services  # type: ignore[attr-defined]

    def services(self) -> list[Service]:
        return [self.cleaned_data[name] for name in SERVICE_FIELDS if self.cleaned_data.get(name)]


def _client_lookup(query: str) -> Client:
    """One client by name, phone, last four digits or pinyin initials; several or none is an error."""
    found = client_search(query=query, limit=2)
    if not found:
        raise forms.ValidationError(_("No client matches."))
    if len(found) > 1:
        raise forms.ValidationError(_("Several clients match; type more of the name or the phone."))
    return found[0]


def _staff_choices() -> Any:
    return User.objects.filter(is_active=True, staff_profile__skills__isnull=False).distinct().order_by("name", "pk")


class WaitlistJoinForm(_VisitForm):
    client = forms.CharField(
        label=_("Client"), max_length=50, help_text=_("Name, phone, last four digits or pinyin initials.")
    )
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    earliest = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    latest = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}))
    staff = forms.ModelChoiceField(
        label=_("Technician"), queryset=User.objects.none(), required=False, empty_label=_("Anyone")
    )
    notes = forms.CharField(label=_("Notes"), max_length=200, required=False)
    field_order = ["client", "service_1", "service_2", "service_3", "staff", "date", "earliest", "latest", "notes"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = _staff_choices()  # type: ignore[attr-defined]

    def clean_client(self) -> Client:
        return _client_lookup(self.cleaned_data["client"])


class WalkInAddForm(_VisitForm):
    client = forms.CharField(
        label=_("Client on file"),
        max_length=50,
        required=False,
        help_text=_("Name, phone, last four digits or pinyin initials; leave empty for a new face."),
    )
    name = forms.CharField(label=_("Or just a name"), max_length=100, required=False)
    requested_staff = forms.ModelChoiceField(
        label=_("Asked for (点钟)"), queryset=User.objects.none(), required=False, empty_label=_("Anyone")
    )
    field_order = ["client", "name", "service_1", "service_2", "service_3", "requested_staff"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["requested_staff"].queryset = _staff_choices()  # type: ignore[attr-defined]

    def clean_client(self) -> Client | None:
        query = self.cleaned_data.get("client", "").strip()
        return _client_lookup(query) if query else None


class RotationSkipForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


def location_choice(value: Any) -> Location | None:
    """The location a page is about: the one asked for, else the first active one."""
    locations = Location.objects.filter(is_active=True).order_by("pk")
    if value and str(value).isdigit():
        chosen = locations.filter(pk=int(value)).first()
        if chosen is not None:
            return chosen
    return locations.first()
