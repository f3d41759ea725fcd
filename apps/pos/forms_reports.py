"""Forms of the sales report, the statement, expenses and invoice requests: input shape only (people type
yuan; ``MoneyField`` hands the views fen); the rules live in the selectors and services."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.models import Location
from apps.core.money import MoneyField
from apps.pos.models import ExpenseCategory, InvoiceStatus, InvoiceType

DATE = forms.DateInput(attrs={"type": "date"})
FILE_ACCEPT = "application/pdf,image/jpeg,image/png,image/webp"


def _locations(field: forms.Field, *, active_only: bool = False) -> None:
    queryset = Location.objects.order_by("id")
    field.queryset = queryset.filter(is_active=True) if active_only else queryset  # type: ignore[attr-defined]


class SalesReportForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Report"),
        choices=[("day", _("Daily")), ("week", _("Weekly")), ("month", _("Monthly"))],
        initial="month",
    )
    date = forms.DateField(label=_("Date in the period"), widget=DATE)
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.none(), required=False, empty_label=_("All locations")
    )

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = today
        _locations(self.fields["location"])


class StatementForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Statement"),
        choices=[("month", _("Month")), ("quarter", _("Quarter")), ("year", _("Year")), ("custom", _("Other dates"))],
        initial="month",
    )
    date = forms.DateField(label=_("Date in the period"), widget=DATE, required=False)
    date_from = forms.DateField(label=_("From (other dates)"), widget=DATE, required=False)
    date_to = forms.DateField(label=_("To (other dates)"), widget=DATE, required=False)
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.none(), required=False, empty_label=_("All locations")
    )

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = today
        _locations(self.fields["location"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") == "custom":
            for name in ("date_from", "date_to"):
                if not data.get(name):
                    self.add_error(name, _("This field is required."))
        elif not data.get("date"):
            self.add_error("date", _("This field is required."))
        return data


class ExpenseCategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("E.g. 房租 rent, 工资 wages, 水电 utilities."))
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, max_value=32767, initial=0)


class ExpenseCategoryEditForm(ExpenseCategoryForm):
    is_active = forms.BooleanField(label=_("In use"), required=False)


class ExpenseForm(forms.Form):
    spent_on = forms.DateField(label=_("Date"), widget=DATE)
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.none(), empty_label=None)
    category = forms.ModelChoiceField(label=_("Category"), queryset=ExpenseCategory.objects.none())
    amount = MoneyField(label=_("Amount (yuan)"), min_value=Decimal("0.01"))
    payee = forms.CharField(label=_("Paid to"), max_length=100, required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    attachment = forms.FileField(
        label=_("Receipt or voucher (PDF or picture)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": FILE_ACCEPT}),
    )

    def __init__(self, *args: Any, keep: Any = None, **kwargs: Any) -> None:
        """``keep``: the expense being corrected, whose location and category stay choosable even if they
        closed or went out of use since."""
        super().__init__(*args, **kwargs)
        locations = Location.objects.filter(is_active=True)
        categories = ExpenseCategory.objects.filter(is_active=True)
        if keep is not None:
            locations = locations | Location.objects.filter(pk=keep.location_id)
            categories = categories | ExpenseCategory.objects.filter(pk=keep.category_id)
        self.fields["location"].queryset = locations.distinct().order_by("id")  # type: ignore[attr-defined]
        self.fields["category"].queryset = categories.distinct().order_by("sort_order", "name")  # type: ignore[attr-defined]


class ExpenseCorrectForm(ExpenseForm):
    reason = forms.CharField(label=_("Reason for the correction"), max_length=200)


class ExpenseReverseForm(forms.Form):
    reason = forms.CharField(label=_("Reason for removing it"), max_length=200)


class ExpenseFilterForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=DATE, required=False)
    date_to = forms.DateField(label=_("To"), widget=DATE, required=False)
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.none(), required=False, empty_label=_("All locations")
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=ExpenseCategory.objects.none(), required=False, empty_label=_("All categories")
    )
    show_removed = forms.BooleanField(label=_("Show removed and corrected expenses"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _locations(self.fields["location"])
        self.fields["category"].queryset = ExpenseCategory.objects.order_by("sort_order", "name")  # type: ignore[attr-defined]


class InvoiceRequestForm(forms.Form):
    bill_number = forms.CharField(label=_("Bill number"), max_length=20)
    invoice_type = forms.ChoiceField(label=_("Invoice type"), choices=InvoiceType.choices)
    title = forms.CharField(label=_("Invoice title (抬头): company or person"), max_length=200)
    buyer_tax_id = forms.CharField(
        label=_("Buyer's tax ID (unified social credit code)"),
        max_length=30,
        required=False,
        help_text=_("Required for a company title and for a special VAT invoice."),
    )
    buyer_address = forms.CharField(
        label=_("Buyer's address and phone"), max_length=200, required=False, help_text=_("Special VAT invoice.")
    )
    buyer_bank = forms.CharField(
        label=_("Buyer's bank and account number"), max_length=200, required=False, help_text=_("Special VAT invoice.")
    )
    email = forms.CharField(label=_("E-mail for the electronic invoice"), max_length=254, required=False)
    amount = MoneyField(label=_("Amount (yuan)"), min_value=Decimal("0.01"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class InvoiceIssueForm(forms.Form):
    invoice_number = forms.CharField(label=_("Invoice number"), max_length=40)
    issued_on = forms.DateField(label=_("Issued on"), widget=DATE)
    file = forms.FileField(
        label=_("Invoice file (PDF or picture)"), required=False, widget=forms.FileInput(attrs={"accept": FILE_ACCEPT})
    )


class InvoiceRejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason for rejecting"), max_length=200)


class InvoiceCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=200, required=False)


class InvoiceFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *InvoiceStatus.choices], required=False
    )
    date_from = forms.DateField(label=_("Requested from"), widget=DATE, required=False)
    date_to = forms.DateField(label=_("Requested to"), widget=DATE, required=False)
    q = forms.CharField(label=_("Bill number, title or invoice number"), max_length=100, required=False)
