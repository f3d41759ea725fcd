"""Invoice (发票) requests (POS-10): requested at the till for a paid bill (``take_payments``), issued or
rejected by the accountant (``manage_expenses``), cancelled while still open. Every step is audited.

The invoice itself is issued in the tax authority's system (which also sends an electronic invoice to
the buyer's e-mail); here the salon records the request, the invoice's number and date and its file,
so nobody invoices a bill twice or beyond what was paid.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import ServiceError
from apps.core.models import User
from apps.core.money import fen_to_yuan
from apps.core.roles import perm
from apps.core.services import audit_record
from apps.pos.errors import PosError, pos_error
from apps.pos.models import Bill, BillStatus, InvoiceRequest, InvoiceStatus, InvoiceType
from apps.pos.models.invoices import HOLDING_STATUSES
from apps.pos.services.attachments import attachment_check
from apps.pos.services.expenses import amount_check, past_date, require_permission, text

# GB 32100-2015: the unified social credit code's 31 characters (no I, O, Z, S, V) and check weights.
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LEGACY_TAX_ID = re.compile(r"^(?:\d{6}[0-9A-Z]{9}|[0-9A-Z]{20})$")


def credit_code_valid(code: str) -> bool:
    """An 18-character unified social credit code: registration authority and entity type, a six-digit
    area code, the nine-character organisation code, and a check character computed from the rest."""
    if len(code) != 18 or any(c not in CREDIT_CODE_CHARS for c in code) or not code[2:8].isdigit():
        return False
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(code[:17], CREDIT_CODE_WEIGHTS, strict=True))
    check = (31 - total % 31) % 31
    return code[17] == CREDIT_CODE_CHARS[check]


def tax_id_normalize(value: Any) -> str:
    """The buyer's tax ID in upper case without spaces; "" when none was given; refused when it is
    neither a valid unified social credit code nor an older 15- or 20-character tax number."""
    raw = "" if value is None else re.sub(r"[\s-]", "", str(value)).upper()
    if not raw:
        return ""
    if len(raw) == 18:
        if credit_code_valid(raw):
            return raw
    elif LEGACY_TAX_ID.match(raw):
        return raw
    raise pos_error(PosError.INVOICE_TAX_ID_INVALID)


def invoice_amount_open(bill: Bill, *, excluding: InvoiceRequest | None = None) -> int:
    """What may still be invoiced on a bill: paid, less refunded, less open and issued requests."""
    if bill.status not in (BillStatus.PAID, BillStatus.REFUNDED):
        return 0
    held = InvoiceRequest.objects.filter(bill=bill, status__in=HOLDING_STATUSES)
    if excluding is not None:
        held = held.exclude(pk=excluding.pk)
    taken = held.aggregate(total=Sum("amount", default=0))["total"]
    return max(bill.paid_total - bill.refunded_total - taken, 0)


def _too_high(available: int) -> ServiceError:
    return pos_error(
        PosError.INVOICE_AMOUNT_TOO_HIGH,
        message=_("At most ¥%(amount)s is left to invoice on this bill.") % {"amount": fen_to_yuan(available)},
    )


def _locked_bill(bill: Bill) -> Bill:
    # Two requests for one bill queue on the bill's row, so they cannot both take what is left.
    return Bill.objects.select_for_update().get(pk=bill.pk)


@transaction.atomic
def invoice_request_create(
    *,
    bill: Bill,
    title: str,
    amount: int,
    invoice_type: str = InvoiceType.GENERAL,
    buyer_tax_id: str = "",
    buyer_address: str = "",
    buyer_bank: str = "",
    email: str = "",
    note: str = "",
    acting_user: User | None,
) -> InvoiceRequest:
    """Ask for an invoice for a paid bill. The amount is more than zero and at most what the bill was paid,
    net of refunds and of the bill's other open or issued requests; a special VAT invoice needs the buyer's
    tax ID, address and phone, and bank account; a tax ID, when given, must be a valid one."""
    require_permission(acting_user, "take_payments")
    if invoice_type not in InvoiceType.values:
        raise pos_error(PosError.INVALID, field="invoice_type")
    title = text(title, field="title", limit=200, required=True)
    amount = amount_check(amount)
    tax_id = tax_id_normalize(buyer_tax_id)
    address = text(buyer_address, field="buyer_address", limit=200)
    bank = text(buyer_bank, field="buyer_bank", limit=200)
    if invoice_type == InvoiceType.SPECIAL and not (tax_id and address and bank):
        missing = next(
            f for f, v in (("buyer_tax_id", tax_id), ("buyer_address", address), ("buyer_bank", bank)) if not v
        )
        raise pos_error(PosError.INVOICE_DETAILS_REQUIRED, field=missing)
    email = text(email, field="email", limit=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise pos_error(PosError.INVOICE_EMAIL_INVALID) from None
    note = text(note, field="note", limit=200)
    locked = _locked_bill(bill)
    if locked.status not in (BillStatus.PAID, BillStatus.REFUNDED):
        raise pos_error(PosError.INVOICE_BILL_NOT_PAID)
    available = invoice_amount_open(locked)
    if amount > available:
        raise _too_high(available)
    request = InvoiceRequest.objects.create(
        bill=locked,
        invoice_type=invoice_type,
        title=title,
        buyer_tax_id=tax_id,
        buyer_address=address,
        buyer_bank=bank,
        email=email,
        amount=amount,
        note=note,
        requested_by=acting_user,
    )
    audit_record(
        action="pos.invoice.requested",
        actor=acting_user,
        target=request,
        data={"bill": locked.number, "amount": amount, "type": invoice_type, "title": title},
    )
    return request


def _locked_open(request: InvoiceRequest) -> InvoiceRequest:
    locked = InvoiceRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != InvoiceStatus.REQUESTED:
        raise pos_error(PosError.INVOICE_NOT_OPEN)
    return locked


@transaction.atomic
def invoice_request_issue(
    *,
    request: InvoiceRequest,
    invoice_number: str,
    issued_on: datetime.date,
    file: UploadedFile | None = None,
    acting_user: User | None,
) -> InvoiceRequest:
    """Record the invoice issued for a request: its number (unique among issued invoices), its date (not in
    the future) and optionally its file (PDF or picture). Refused when a refund since the request leaves
    less to invoice than the request's amount."""
    require_permission(acting_user, "manage_expenses")
    number = text(invoice_number, field="invoice_number", limit=40, required=True)
    issued_on = past_date(issued_on, field="issued_on")
    checked = attachment_check(file, field="file") if file is not None else None
    bill = _locked_bill(request.bill)  # the bill first, then the request: the order every writer uses
    locked = _locked_open(request)
    available = invoice_amount_open(bill, excluding=locked)
    if locked.amount > available:
        raise _too_high(available)
    locked.status = InvoiceStatus.ISSUED
    locked.invoice_number = number
    locked.issued_on = issued_on
    locked.decided_by = acting_user
    locked.decided_at = timezone.now()
    if checked is not None:
        locked.file = checked.upload  # type: ignore[assignment]
        locked.file_name = checked.name
        locked.file_type = checked.content_type
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:  # the number is unique among issued invoices
        raise pos_error(PosError.INVOICE_NUMBER_TAKEN) from None
    audit_record(
        action="pos.invoice.issued",
        actor=acting_user,
        target=locked,
        data={"number": number, "issued_on": issued_on.isoformat(), "amount": locked.amount},
    )
    return locked


def _close(request: InvoiceRequest, *, status: str, reason: str, acting_user: User | None) -> InvoiceRequest:
    locked = _locked_open(request)
    locked.status = status
    locked.reject_reason = reason
    locked.decided_by = acting_user
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "reject_reason", "decided_by", "decided_at"])
    audit_record(action=f"pos.invoice.{status}", actor=acting_user, target=locked, data={"reason": reason})
    return locked


@transaction.atomic
def invoice_request_reject(*, request: InvoiceRequest, reason: str, acting_user: User | None) -> InvoiceRequest:
    """Refuse an open request, with the reason the requester will read."""
    require_permission(acting_user, "manage_expenses")
    reason = text(reason, field="reason", limit=200, required=True)
    return _close(request, status=InvoiceStatus.REJECTED, reason=reason, acting_user=acting_user)


@transaction.atomic
def invoice_request_cancel(*, request: InvoiceRequest, reason: str = "", acting_user: User | None) -> InvoiceRequest:
    """Withdraw an open request (the client changed their mind, the title was wrong): its amount is free
    to invoice again. The front desk (``take_payments``) or the accountant may."""
    if acting_user is None or not (
        acting_user.has_perm(perm("take_payments")) or acting_user.has_perm(perm("manage_expenses"))
    ):
        raise pos_error(PosError.ACCOUNTS_PERMISSION_DENIED)
    reason = text(reason, field="reason", limit=200)
    return _close(request, status=InvoiceStatus.CANCELLED, reason=reason, acting_user=acting_user)
