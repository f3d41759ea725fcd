"""Forms of the booking reports and the calendar-feed page: input shape only; rules live in the
selectors and services."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.models import Location, User


class ReportPeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.none(), required=False, empty_label=_("All locations")
    )

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.order_by("id")  # type: ignore[attr-defined]
        # The last four whole weeks up to today when nothing is chosen.
        self.fields["date_from"].initial = today - datetime.timedelta(days=27)
        self.fields["date_to"].initial = today


class FeedResetForm(forms.Form):
    staff = forms.ModelChoiceField(label=_("Staff member"), queryset=User.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = User.objects.filter(is_active=True).order_by("name", "id")  # type: ignore[attr-defined]
