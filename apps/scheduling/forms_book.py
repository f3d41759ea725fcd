"""Forms of the appointment book (SCH-10): booking from an empty cell, and moving a visit."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Service
from apps.core.db import salon_timezone
from apps.core.models import Location, User
from apps.crm.models import Client


class BookForm(forms.Form):
    """A new visit from the front desk: a client, services in order, one technician or anyone, a start."""

    location = forms.ModelChoiceField(queryset=Location.objects.filter(is_active=True), widget=forms.HiddenInput)
    client = forms.ModelChoiceField(
        queryset=Client.objects.filter(is_active=True),
        label=_("Client"),
        error_messages={"required": _("Choose the client."), "invalid_choice": _("Choose the client.")},
    )
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        label=_("Services"),
        error_messages={"required": _("Choose at least one service.")},
    )
    staff = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        empty_label=_("Anyone free"),
        label=_("Technician"),
    )
    is_requested = forms.BooleanField(required=False, label=_("The client asked for this technician (点钟)"))
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(label=_("Start"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, staff_choices: list[User] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if staff_choices is not None:
            field = self.fields["staff"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = User.objects.filter(pk__in=[s.pk for s in staff_choices]).order_by("name", "id")

    def start(self) -> datetime.datetime:
        return local_start(self.cleaned_data["date"], self.cleaned_data["time"])

    def ordered_services(self) -> list[Service]:
        """The chosen services in catalogue order: the order of the visit's lines."""
        return sorted(self.cleaned_data["services"], key=lambda s: (s.sort_order, s.name, s.pk))


def local_start(day: datetime.date, at: datetime.time) -> datetime.datetime:
    """The instant of a wall-clock time on a date in the salon's zone."""
    return datetime.datetime.combine(day, at, tzinfo=salon_timezone())
