"""Forms of the scheduling set-up pages (rosters, time off, resources, booking rules and settings):
input shape only; the rules live in the services."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.models import Location, User
from apps.core.money import MoneyField
from apps.core.roles import Role
from apps.scheduling.models import Resource, ResourceType, TimeOffKind
from apps.scheduling.models.settings import SLOT_STEPS

WEEKDAYS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]
_DASH = re.compile(r"\s*(-|–|—|~|～|至)\s*")
_PERIOD = re.compile(r"^(\d{1,2})[:：]?(\d{2})(?:-|–|—|~|～|至)(\d{1,2})[:：]?(\d{2})$")
_SPLIT = re.compile(r"[,，;；、\s]+")


def hours_text(periods: list[tuple[datetime.time, datetime.time]]) -> str:
    return ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in periods)


class HoursField(forms.CharField):
    """Working periods of one day typed as ``10:00-19:00``, several separated by commas
    (``10:00-14:00, 15:00-19:00``); empty is a day not worked. Cleans to a list of (start, end)."""

    default_error_messages = {
        "invalid": _("Enter hours like 10:00-19:00; separate several periods with commas."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "10:00-19:00", "inputmode": "numeric"}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return hours_text(value)
        return value

    def to_python(self, value: Any) -> Any:  # type: ignore[override]
        text = (super().to_python(value) or "").strip()
        periods = []
        for part in filter(None, _SPLIT.split(_DASH.sub(r"\1", text))):
            match = _PERIOD.match(part)
            if not match:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            try:
                periods.append((datetime.time(h1, m1), datetime.time(h2, m2)))
            except ValueError as exc:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
        return periods


def staff_choices() -> Any:
    return User.objects.filter(is_active=True).exclude(role=Role.ACCOUNTANT).order_by("name", "pk")


def open_locations() -> Any:
    return Location.objects.filter(is_active=True).order_by("pk")


class _StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class RosterWeekForm(forms.Form):
    valid_from = forms.DateField(
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The week in force until then is kept as it was."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for weekday, name in enumerate(WEEKDAYS):
            self.fields[f"day_{weekday}"] = HoursField(
                label=name, widget=forms.TextInput(attrs={"placeholder": _("not worked"), "inputmode": "numeric"})
            )

    def days(self) -> dict[int, list[tuple[datetime.time, datetime.time]]]:
        return {d: self.cleaned_data[f"day_{d}"] for d in range(7) if self.cleaned_data[f"day_{d}"]}


class ShiftExceptionForm(forms.Form):
    KIND_OFF, KIND_HOURS = "off", "hours"
    staff = _StaffChoice(label=_("Staff member"), queryset=User.objects.none())
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(
        label=_("Change"),
        choices=[(KIND_OFF, _("Day off")), (KIND_HOURS, _("Other working hours"))],
        widget=forms.RadioSelect,
        initial=KIND_OFF,
    )
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.none(), required=False)
    hours = HoursField(label=_("Working hours"), help_text=_("For other working hours, e.g. 12:00-20:00."))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff_choices()  # type: ignore[attr-defined]
        self.fields["location"].queryset = open_locations()  # type: ignore[attr-defined]


class TimeOffForm(forms.Form):
    staff = _StaffChoice(label=_("Staff member"), queryset=User.objects.none())
    start = forms.DateTimeField(label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=TimeOffKind.choices, initial=TimeOffKind.LEAVE)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff_choices()  # type: ignore[attr-defined]


class ResourceTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50, help_text=_("E.g. facial room, wash bed, device."))


class ResourceTypeEditForm(ResourceTypeForm):
    is_active = forms.BooleanField(label=_("In use"), required=False)


class ResourceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    resource_type = forms.ModelChoiceField(label=_("Type"), queryset=ResourceType.objects.none())
    capacity = forms.IntegerField(
        label=_("Capacity"), min_value=1, max_value=50, initial=1, help_text=_("Clients at the same time.")
    )
    sort_order = forms.IntegerField(label=_("Order"), initial=0, min_value=-10_000, max_value=10_000)

    def __init__(self, *args: Any, resource: Resource | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = resource.resource_type_id if resource is not None else None
        self.fields["resource_type"].queryset = ResourceType.objects.filter(  # type: ignore[attr-defined]
            Q(is_active=True) | Q(pk=current)
        ).order_by("name", "pk")


class ResourceEditForm(ResourceForm):
    is_active = forms.BooleanField(label=_("Active"), required=False)


class ServiceRuleForm(forms.Form):
    resource_types = forms.ModelMultipleChoiceField(
        label=_("Needs a place in"),
        queryset=ResourceType.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    deposit_amount = MoneyField(label=_("Deposit (yuan)"), help_text=_("0: no deposit."))
    is_online_bookable = forms.BooleanField(label=_("Clients can book it online"), required=False)

    def __init__(self, *args: Any, current: list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resource_types"].queryset = ResourceType.objects.filter(  # type: ignore[attr-defined]
            Q(is_active=True) | Q(pk__in=current or [])
        ).order_by("name", "pk")


class MinutesListField(forms.CharField):
    """Whole minutes separated by commas (``1440, 120``); cleans to a list of ints."""

    def to_python(self, value: Any) -> Any:  # type: ignore[override]
        text = (super().to_python(value) or "").strip()
        try:
            return [int(part) for part in re.split(r"[,，;；\s]+", text) if part]
        except ValueError as exc:
            raise ValidationError(
                _("Enter whole minutes separated by commas, e.g. 1440, 120."), code="invalid"
            ) from exc

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value


class SchedulingSettingsForm(forms.Form):
    slot_step_minutes = forms.TypedChoiceField(
        label=_("Slot grid (minutes)"),
        choices=[(s, s) for s in SLOT_STEPS],
        coerce=int,
        help_text=_("Bookable start times are this many minutes apart."),
    )
    online_min_notice_minutes = forms.IntegerField(label=_("Online bookings at least (minutes ahead)"), min_value=0)
    online_max_days_ahead = forms.IntegerField(label=_("Online bookings at most (days ahead)"), min_value=1)
    cancellation_window_hours = forms.IntegerField(
        label=_("Clients may cancel or move until (hours before)"), min_value=0
    )
    reminder_offsets_minutes = MinutesListField(
        label=_("Reminders before the visit (minutes)"),
        required=False,
        help_text=_("Up to five, separated by commas: 1440 is a day before, 120 two hours before."),
    )
    remind_staff = forms.BooleanField(label=_("Remind the technician too"), required=False)
    risky_no_show_count = forms.IntegerField(
        label=_("Deposit required after this many no-shows"), min_value=0, help_text=_("0: never.")
    )
    risky_deposit_amount = MoneyField(label=_("Deposit for risky clients (yuan)"))
    no_show_forfeits_deposit = forms.BooleanField(label=_("A no-show forfeits the deposit"), required=False)
    late_cancel_forfeits_deposit = forms.BooleanField(
        label=_("A late cancellation forfeits the deposit"), required=False
    )
    waitlist_offer_minutes = forms.IntegerField(label=_("Waitlist offers stay open (minutes)"), min_value=1)
    rotation_requested_keeps_turn = forms.BooleanField(
        label=_("A requested (点钟) service keeps the technician's turn"), required=False
    )
