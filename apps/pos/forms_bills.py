"""Forms of the till's pages. Staff type yuan and percentages; the forms hand the services fen and basis
points. Rules stay in the services: these only parse."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import CourseCardTemplate, Package, Product, Service
from apps.core.models import User
from apps.core.money import MoneyField
from apps.crm.models import Client
from apps.loyalty.models import CourseCard, CourseCardStatus
from apps.pos.models import Bill, BillKind, BillLine, LineKind, PosSettings, TenderMethod
from apps.pos.services.bills import FULL_SHARE, MAX_QUANTITY, StaffShare
from apps.scheduling.models import Resource

PAY_ROWS = 4
ITEM_MODELS: dict[str, type[Any]] = {
    "service": Service,
    "product": Product,
    "package": Package,
    "course_card": CourseCardTemplate,
}


def staff_choices_read() -> list[tuple[int, str]]:
    """Active staff as (id, name), for the staff pickers of a page (one query for all its forms)."""
    return list(User.objects.filter(is_active=True).order_by("name", "id").values_list("pk", "name"))


class BillOpenForm(forms.Form):
    client = forms.ModelChoiceField(
        label=_("Client"),
        queryset=Client.objects.filter(is_active=True),
        required=False,
        widget=forms.HiddenInput,
    )
    kind = forms.ChoiceField(label=_("Kind of bill"), choices=BillKind.choices, initial=BillKind.STANDARD)
    room = forms.ModelChoiceField(
        label=_("Room (room bills)"),
        queryset=Resource.objects.filter(is_active=True).order_by("sort_order", "name"),
        required=False,
    )
    guest_count = forms.IntegerField(label=_("Guests"), min_value=1, max_value=50, initial=1)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class StaffSharesMixin(forms.Form):
    """Up to three staff per line with their shares in percent (60/40); empty shares split evenly. The
    staff to choose from are read once per page (``staff_choices``) and shared by every line's form."""

    share_1 = forms.DecimalField(label=_("Share (%)"), required=False, min_value=0, max_value=100, decimal_places=2)
    share_2 = forms.DecimalField(
        label=_("Second share (%)"), required=False, min_value=0, max_value=100, decimal_places=2
    )
    share_3 = forms.DecimalField(
        label=_("Third share (%)"), required=False, min_value=0, max_value=100, decimal_places=2
    )
    is_requested = forms.BooleanField(label=_("Requested by the client (点钟)"), required=False)

    def __init__(self, *args: Any, staff_choices: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *(staff_choices if staff_choices is not None else staff_choices_read())]
        labels = (_("Staff"), _("Second staff member"), _("Third staff member"))
        for n, label in zip((1, 2, 3), labels, strict=True):
            self.fields[f"staff_{n}"] = forms.TypedChoiceField(
                label=label, choices=choices, coerce=int, required=False, empty_value=None
            )
        self.order_fields(["staff_1", "share_1", "staff_2", "share_2", "staff_3", "share_3"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        ids = [int(data[f"staff_{n}"]) for n in (1, 2, 3) if data.get(f"staff_{n}")]
        users = {u.pk: u for u in User.objects.filter(pk__in=ids)} if ids else {}
        for n in (1, 2, 3):
            if data.get(f"staff_{n}"):
                data[f"staff_{n}"] = users.get(data[f"staff_{n}"])
        return data

    def staff_pairs(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"staff_{n}"], self[f"share_{n}"]) for n in (1, 2, 3)]

    def staff_shares(self) -> list[StaffShare] | None:
        """The shares in basis points, or None when no staff member was chosen."""
        data = self.cleaned_data
        chosen: list[tuple[User, Any]] = [
            (data[f"staff_{n}"], data.get(f"share_{n}")) for n in (1, 2, 3) if data.get(f"staff_{n}")
        ]
        if not chosen:
            return None
        requested = bool(data.get("is_requested"))
        if all(share is None for _staff, share in chosen):
            each, left = divmod(FULL_SHARE, len(chosen))
            return [
                StaffShare(staff, each + (left if i == 0 else 0), requested and i == 0)
                for i, (staff, _share) in enumerate(chosen)
            ]
        return [
            StaffShare(staff, int((share or 0) * 100), requested and i == 0) for i, (staff, share) in enumerate(chosen)
        ]


class LineAddForm(StaffSharesMixin):
    item = forms.CharField(label=_("Item"), required=False, max_length=40)
    top_up = MoneyField(label=_("Top-up amount (¥)"), required=False, min_value=0)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1)
    price = MoneyField(label=_("Price by hand (¥ per unit)"), required=False)
    price_reason = forms.CharField(label=_("Reason for the price"), required=False, max_length=200)
    guest = forms.ModelChoiceField(
        label=_("Guest (client)"),
        queryset=Client.objects.filter(is_active=True),
        required=False,
        widget=forms.HiddenInput,
    )
    guest_label = forms.CharField(label=_("Guest"), required=False, max_length=60)
    notes = forms.CharField(label=_("Note"), required=False, max_length=200)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        item = (data.get("item") or "").strip()
        if item:
            kind, _sep, pk = item.partition(":")
            model = ITEM_MODELS.get(kind)
            found = model.objects.filter(pk=int(pk)).first() if model is not None and pk.isdigit() else None
            if found is None:
                self.add_error("item", _("Choose an item from the search."))
            data["item_object"] = found
        elif not data.get("top_up"):
            self.add_error("item", _("Choose an item, or enter a top-up amount."))
        return data


class LineEditForm(StaffSharesMixin):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY)
    price = MoneyField(label=_("Price by hand (¥ per unit)"), required=False)
    price_reason = forms.CharField(label=_("Reason for the price"), required=False, max_length=200)
    back_to_catalogue = forms.BooleanField(label=_("Back to the catalogue price"), required=False)
    notes = forms.CharField(label=_("Note"), required=False, max_length=200)


class NotesForm(forms.Form):
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class PayForm(forms.Form):
    """Up to four tenders; a row without a method or an amount is left out. Cash may carry what was
    handed over; points may give points instead of an amount; a course-card session names the card and
    the service line it pays. A row of stored value, points or a session carries the client's one-time code
    (LOY-8); when the salon requires one (``require_code``), also the reason a manager skips it (audited;
    the page shows it to staff who may skip the code, loyalty's ``redemption_authorise`` checks the role)."""

    def __init__(
        self,
        *args: Any,
        bill: Bill,
        settings_row: PosSettings,
        deposit_held: int = 0,
        require_code: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        enabled = [
            (value, label)
            for value, label in TenderMethod.choices
            if getattr(settings_row, f"accepts_{value}", False) or (value == TenderMethod.DEPOSIT and deposit_held)
        ]
        cards = (
            CourseCard.objects.filter(client_id=bill.client_id, status=CourseCardStatus.ACTIVE).order_by("id")
            if bill.client_id
            else CourseCard.objects.none()
        )
        lines = BillLine.objects.filter(bill=bill, kind=LineKind.SERVICE).order_by("position", "id")
        for n in range(1, PAY_ROWS + 1):
            self.fields[f"method_{n}"] = forms.ChoiceField(
                label=_("Method"), choices=[("", "—"), *enabled], required=False
            )
            self.fields[f"amount_{n}"] = MoneyField(label=_("Amount (¥)"), required=False)
            self.fields[f"tendered_{n}"] = MoneyField(label=_("Cash handed over (¥)"), required=False)
            self.fields[f"points_{n}"] = forms.IntegerField(label=_("Points"), required=False, min_value=1)
            self.fields[f"course_card_{n}"] = forms.ModelChoiceField(
                label=_("Course card"), queryset=cards, required=False
            )
            self.fields[f"line_{n}"] = forms.ModelChoiceField(
                label=_("Service it pays for"), queryset=lines, required=False
            )
            self.fields[f"code_{n}"] = forms.CharField(label=_("Client's code"), required=False, max_length=12)
            if require_code:
                self.fields[f"override_reason_{n}"] = forms.CharField(
                    label=_("Or skip the code (manager), because"), required=False, max_length=200
                )

        self.fields["auth_code"] = forms.CharField(
            label=_("Payment code (scan the client's phone)"),
            required=False,
            max_length=40,
            widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        )

    def rows(self) -> list[list[forms.BoundField]]:
        names = ("method", "amount", "tendered", "points", "course_card", "line", "code", "override_reason")
        return [[self[f"{name}_{n}"] for name in names if f"{name}_{n}" in self.fields] for n in range(1, PAY_ROWS + 1)]

    def tenders(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        found = []
        for n in range(1, PAY_ROWS + 1):
            method = data.get(f"method_{n}")
            if not method:
                continue
            found.append(
                {
                    "method": method,
                    "amount": data.get(f"amount_{n}") or None,
                    "tendered": data.get(f"tendered_{n}") or None,
                    "points": data.get(f"points_{n}"),
                    "course_card": data.get(f"course_card_{n}"),
                    "line": data.get(f"line_{n}"),
                    "code": (data.get(f"code_{n}") or "").strip(),
                    "override_reason": (data.get(f"override_reason_{n}") or "").strip(),
                }
            )
        return found


class RefundForm(forms.Form):
    """Units per line to refund (``quantity_<line id>``), or an amount; a reason."""

    amount = MoneyField(label=_("Or an amount (¥)"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args: Any, lines: list[BillLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bill_lines = [line for line in lines if line.refunded_quantity < line.quantity]
        for line in self.bill_lines:
            self.fields[f"quantity_{line.pk}"] = forms.IntegerField(
                label=_("Units of %(item)s to refund") % {"item": line.name},
                required=False,
                min_value=0,
                max_value=line.quantity - line.refunded_quantity,
            )

    def refund_lines(self) -> list[tuple[BillLine, int]]:
        return [
            (line, self.cleaned_data[f"quantity_{line.pk}"])
            for line in self.bill_lines
            if self.cleaned_data.get(f"quantity_{line.pk}")
        ]


class TillSettingsForm(forms.ModelForm):
    class Meta:
        model = PosSettings
        fields = [
            "accepts_cash",
            "accepts_stored_value",
            "accepts_points",
            "accepts_course_card",
            "accepts_wechat",
            "accepts_alipay",
            "receipt_width",
            "receipt_header",
            "receipt_footer",
            "send_e_receipt",
        ]
        help_texts = {
            "accepts_wechat": _("Takes effect once the payment gateways are connected."),
            "accepts_alipay": _("Takes effect once the payment gateways are connected."),
        }
