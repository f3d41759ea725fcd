"""Reads of receipts (POS-3): everything a paid bill's receipt shows, gathered in a fixed number of
queries, and laid out as the structured lines a receipt printer prints (58 or 80 mm paper).

The HTML page, the PDF, the print job, the API and the e-receipt all start from ``receipt_build``, so
they never disagree."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch

from apps.core.db import salon_name, salon_timezone
from apps.core.money import fen_to_yuan
from apps.edge.rendering import COLUMNS
from apps.loyalty.models import PointsEntry, PointsEntryKind, WalletEntry, WalletEntryKind
from apps.pos.models import (
    Bill,
    BillLine,
    BillLineStaff,
    BillStatus,
    PosSettings,
    ReceiptWidth,
    Tender,
    TenderMethod,
    TenderStatus,
)
from apps.pos.receipt_terms import receipt_language, receipt_terms

# Bills whose receipt can be printed: paid, or paid and then refunded (the receipt says what went back).
RECEIPT_STATUSES = (BillStatus.PAID, BillStatus.REFUNDED)


@dataclass(frozen=True)
class ReceiptItem:
    name: str
    kind: str
    quantity: int
    unit_price: int
    discount: int
    amount: int
    staff: list[str]
    guest: str = ""
    refunded_amount: int = 0

    @property
    def gross(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class ReceiptTender:
    method: str
    label: str
    amount: int
    # The label as printed, with the points used for a points tender.
    text: str
    tendered: int = 0
    change: int = 0
    points: int = 0
    refunded: int = 0


@dataclass(frozen=True)
class Receipt:
    """A paid bill as its receipt shows it, in one language. Money is fen; ``time`` is the salon's local
    time of payment as printed."""

    bill_id: int
    number: str
    status: str
    language: str
    width: int
    salon: str
    header: str
    footer: str
    location_name: str
    location_address: str
    location_phone: str
    paid_at: datetime.datetime | None
    time: str
    cashier: str
    client_name: str
    client_phone: str
    items: list[ReceiptItem]
    subtotal: int
    discount_total: int
    total: int
    paid_total: int
    refunded_total: int
    change_given: int
    tenders: list[ReceiptTender]
    points_earned: int | None = None
    points_balance: int | None = None
    stored_value_balance: int | None = None
    terms: dict[str, str] = field(default_factory=dict)

    @property
    def has_loyalty(self) -> bool:
        return any(v is not None for v in (self.points_earned, self.points_balance, self.stored_value_balance))


def pos_settings_read() -> PosSettings:
    """The salon's till settings: the one reader, ``selectors.bills.pos_settings`` (the row is made with
    the defaults on first read)."""
    from apps.pos.selectors.bills import pos_settings

    return pos_settings()


def receipt_width(value: Any, default: int) -> int:
    """58 or 80 (mm) as asked, else ``default``."""
    try:
        width = int(value)
    except (TypeError, ValueError):
        return default
    return width if width in ReceiptWidth.values else default


def receipt_bill(pk: int) -> Bill | None:
    """The bill with everything its receipt shows (lines with their guests and staff, succeeded tenders):
    four queries whatever the number of lines."""
    return (
        Bill.objects.select_related("location", "client", "opened_by", "closed_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=BillLine.objects.select_related("guest")
                .order_by("position", "id")
                .prefetch_related(
                    Prefetch(
                        "staff_shares",
                        queryset=BillLineStaff.objects.select_related("staff").order_by("-share", "id"),
                    )
                ),
            ),
            Prefetch(
                "tenders",
                queryset=Tender.objects.filter(status=TenderStatus.SUCCEEDED).order_by("id"),
                to_attr="succeeded_tenders",
            ),
        )
        .filter(pk=pk)
        .first()
    )


def _loyalty_after(bill: Bill) -> tuple[int | None, int | None, int | None]:
    """Points earned by the bill, the points balance and stored value left right after it was paid —
    read from the loyalty ledgers' entries that name the bill (reference ``bill:<id>``); None where the
    bill moved nothing there."""
    if bill.client_id is None:
        return None, None, None
    reference = f"bill:{bill.pk}"
    points_entries = list(
        PointsEntry.objects.filter(reference=reference, kind__in=[PointsEntryKind.EARN_SPEND, PointsEntryKind.REDEEM])
        .order_by("id")
        .values_list("kind", "points", "balance_after")
    )
    earned = sum(p for kind, p, _after in points_entries if kind == PointsEntryKind.EARN_SPEND)
    points_earned = earned if any(kind == PointsEntryKind.EARN_SPEND for kind, _p, _a in points_entries) else None
    points_balance = points_entries[-1][2] if points_entries else None
    wallet = (
        WalletEntry.objects.filter(reference=reference, kind__in=[WalletEntryKind.PAYMENT, WalletEntryKind.TOP_UP])
        .order_by("-id")
        .values_list("principal_after", "bonus_after")
        .first()
    )
    stored_value = wallet[0] + wallet[1] if wallet is not None else None
    return points_earned, points_balance, stored_value


def receipt_build(*, bill: Bill, language: str | None = None, width: int | str | None = None) -> Receipt:
    """The receipt of a paid bill (fetched with ``receipt_bill``) in ``language`` (the salon's default,
    Chinese, unless asked) on ``width`` mm paper (the till settings' unless asked)."""
    settings_row = pos_settings_read()
    language = receipt_language(language)
    terms = receipt_terms(language)
    paper = receipt_width(width, settings_row.receipt_width)
    items = []
    for line in bill.lines.all():
        guest = line.guest_label or (line.guest.name if line.guest is not None else "")
        items.append(
            ReceiptItem(
                name=line.name,
                kind=line.kind,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                amount=line.amount,
                staff=[share.staff.name for share in line.staff_shares.all()],
                guest=guest,
                refunded_amount=line.refunded_amount,
            )
        )
    tenders = [
        ReceiptTender(
            method=t.method,
            label=terms.get(t.method, t.method),
            text=_tender_label(t.method, terms.get(t.method, t.method), t.points, terms),
            amount=t.amount,
            tendered=t.tendered,
            change=t.change,
            points=t.points,
            refunded=t.refunded_amount,
        )
        for t in getattr(bill, "succeeded_tenders", [])
    ]
    points_earned, points_balance, stored_value = _loyalty_after(bill)
    moment = bill.paid_at or bill.opened_at
    cashier = bill.closed_by or bill.opened_by
    client = bill.client
    return Receipt(
        bill_id=bill.pk,
        number=bill.number,
        status=bill.status,
        language=language,
        width=paper,
        salon=salon_name() or bill.location.name,
        header=settings_row.receipt_header,
        footer=settings_row.receipt_footer or terms["thanks"],
        location_name=bill.location.name,
        location_address=bill.location.address,
        location_phone=bill.location.phone,
        paid_at=bill.paid_at,
        time=moment.astimezone(salon_timezone()).strftime("%Y-%m-%d %H:%M"),
        cashier=cashier.name if cashier is not None else "",
        client_name=client.name if client is not None else "",
        client_phone=client.phone_masked if client is not None else "",
        items=items,
        subtotal=bill.subtotal,
        discount_total=bill.discount_total,
        total=bill.total,
        paid_total=bill.paid_total,
        refunded_total=bill.refunded_total,
        change_given=bill.change_given,
        tenders=tenders,
        points_earned=points_earned,
        points_balance=points_balance,
        stored_value_balance=stored_value,
        terms=terms,
    )


def _money(fen: int) -> str:
    return fen_to_yuan(fen)


def _yuan(fen: int) -> str:
    return ("-¥" if fen < 0 else "¥") + fen_to_yuan(abs(fen))


def _tender_label(method: str, label: str, points: int, t: dict[str, str]) -> str:
    if method == TenderMethod.POINTS and points:
        return f"{label} ({t['points_used'] % {'points': f'{points:,}'}})"
    return label


def receipt_payload(receipt: Receipt) -> dict[str, Any]:
    """The receipt as structured print lines (see ``apps.edge.rendering``) for ``receipt.width`` paper."""
    t = receipt.terms
    colon = t["colon"]
    lines: list[dict[str, Any]] = [
        {"type": "text", "text": receipt.salon, "align": "center", "bold": True, "size": "double"},
    ]
    if receipt.header:
        lines.append({"type": "text", "text": receipt.header, "align": "center"})
    lines.append({"type": "text", "text": receipt.location_name, "align": "center"})
    if receipt.location_address:
        lines.append({"type": "text", "text": receipt.location_address, "align": "center"})
    if receipt.location_phone:
        lines.append({"type": "text", "text": f"{t['phone']}{colon}{receipt.location_phone}", "align": "center"})
    lines.append({"type": "rule", "char": "="})
    lines.append({"type": "text", "text": f"{t['bill_number']}{colon}{receipt.number}"})
    lines.append({"type": "text", "text": f"{t['time']}{colon}{receipt.time}"})
    if receipt.cashier:
        lines.append({"type": "text", "text": f"{t['cashier']}{colon}{receipt.cashier}"})
    who = f"{receipt.client_name} {receipt.client_phone}".strip() if receipt.client_name else t["walk_in"]
    lines.append({"type": "text", "text": f"{t['client']}{colon}{who}"})
    lines.append({"type": "rule", "char": "-"})
    for item in receipt.items:
        name = f"[{item.guest}] {item.name}" if item.guest else item.name
        lines.append({"type": "text", "text": name})
        lines.append(
            {"type": "pair", "left": f"  {item.quantity} × {_money(item.unit_price)}", "right": _money(item.gross)}
        )
        if item.discount:
            lines.append({"type": "pair", "left": f"  {t['discount']}", "right": _money(-item.discount)})
        if item.staff:
            lines.append({"type": "text", "text": f"  {t['staff']}{colon}{'、'.join(item.staff)}"})
    lines.append({"type": "rule", "char": "-"})
    lines.append({"type": "pair", "left": t["subtotal"], "right": _yuan(receipt.subtotal)})
    if receipt.discount_total:
        lines.append({"type": "pair", "left": t["discount"], "right": _yuan(-receipt.discount_total)})
    lines.append({"type": "pair", "left": t["total"], "right": _yuan(receipt.total), "bold": True})
    lines.append({"type": "rule", "char": "-"})
    for tender in receipt.tenders:
        lines.append({"type": "pair", "left": tender.text, "right": _yuan(tender.amount)})
        if tender.method == TenderMethod.CASH and tender.change:
            lines.append({"type": "pair", "left": f"  {t['received']}", "right": _yuan(tender.tendered)})
            lines.append({"type": "pair", "left": f"  {t['change']}", "right": _yuan(tender.change)})
    if receipt.refunded_total:
        lines.append({"type": "pair", "left": t["refunded"], "right": _yuan(-receipt.refunded_total), "bold": True})
    if receipt.has_loyalty:
        lines.append({"type": "rule", "char": "-"})
        if receipt.points_earned is not None:
            lines.append({"type": "pair", "left": t["points_earned"], "right": f"+{receipt.points_earned:,}"})
        if receipt.points_balance is not None:
            lines.append({"type": "pair", "left": t["points_balance"], "right": f"{receipt.points_balance:,}"})
        if receipt.stored_value_balance is not None:
            lines.append(
                {"type": "pair", "left": t["stored_value_balance"], "right": _yuan(receipt.stored_value_balance)}
            )
    lines.append({"type": "rule", "char": "="})
    lines.append({"type": "text", "text": receipt.footer, "align": "center"})
    lines.append({"type": "feed", "lines": 3})
    lines.append({"type": "cut"})
    return {"width": receipt.width, "columns": COLUMNS[receipt.width], "lines": lines, "copy_title": t["copy"]}


def receipt_as_dict(receipt: Receipt) -> dict[str, Any]:
    """The receipt for the API: its figures (fen) and the print lines."""
    return {
        "bill": receipt.bill_id,
        "number": receipt.number,
        "status": receipt.status,
        "language": receipt.language,
        "width": receipt.width,
        "salon": receipt.salon,
        "header": receipt.header,
        "footer": receipt.footer,
        "location": {
            "name": receipt.location_name,
            "address": receipt.location_address,
            "phone": receipt.location_phone,
        },
        "paid_at": receipt.paid_at.isoformat() if receipt.paid_at else None,
        "time": receipt.time,
        "cashier": receipt.cashier,
        "client": {"name": receipt.client_name, "phone": receipt.client_phone} if receipt.client_name else None,
        "lines": [
            {
                "name": i.name,
                "kind": i.kind,
                "guest": i.guest,
                "quantity": i.quantity,
                "unit_price": i.unit_price,
                "discount": i.discount,
                "amount": i.amount,
                "refunded_amount": i.refunded_amount,
                "staff": i.staff,
            }
            for i in receipt.items
        ],
        "subtotal": receipt.subtotal,
        "discount_total": receipt.discount_total,
        "total": receipt.total,
        "paid_total": receipt.paid_total,
        "refunded_total": receipt.refunded_total,
        "change_given": receipt.change_given,
        "tenders": [
            {
                "method": t.method,
                "label": t.text,
                "amount": t.amount,
                "tendered": t.tendered,
                "change": t.change,
                "points": t.points,
                "refunded": t.refunded,
            }
            for t in receipt.tenders
        ],
        "points_earned": receipt.points_earned,
        "points_balance": receipt.points_balance,
        "stored_value_balance": receipt.stored_value_balance,
        "print": receipt_payload(receipt),
    }
