"""The till's lines in the client's consumption history (CRM-4): what the client 360° page, the spend
figures, the spend-based tags and the tier rules read (crm's ``PurchaseLine``).

The bill flow calls ``purchase_history_record_for_bill`` once a bill is paid and
``purchase_history_record_for_refund`` once a refund succeeded. Both are idempotent (each history line
carries the bill line's or refund line's reference), so a retried payment or refund records nothing
twice.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction

from apps.crm.models import Client, PurchaseKind, PurchaseLine
from apps.crm.services.clients import purchase_record
from apps.pos.models import Bill, BillLine, BillLineStaff, Refund, TenderMethod, TenderStatus

_TENDER_LABELS = dict(TenderMethod.choices)


def _tenders_text(bill: Bill) -> str:
    methods = []
    for method in bill.tenders.filter(status=TenderStatus.SUCCEEDED).order_by("id").values_list("method", flat=True):
        label = str(_TENDER_LABELS.get(method, method))
        if label not in methods:
            methods.append(label)
    return " + ".join(methods)[:100]


def _staff_of(lines: list[BillLine]) -> dict[int, list[BillLineStaff]]:
    shares: dict[int, list[BillLineStaff]] = defaultdict(list)
    for share in (
        BillLineStaff.objects.filter(line__in=lines).select_related("staff").order_by("line_id", "-share", "id")
    ):
        shares[share.line_id].append(share)
    return shares


def _client_of(line: BillLine, bill: Bill) -> Client | None:
    # On a group bill a line may be a guest's own; the guest's history gets it.
    return line.guest if line.guest_id else bill.client


@transaction.atomic
def purchase_history_record_for_bill(*, bill: Bill) -> list[PurchaseLine]:
    """Record each line of a paid bill in its client's history (the guest's, on a group bill line that
    names one): item, quantity, amount after discounts, the staff who earned most of it (all names
    listed), the tenders, the location, the paid time. Walk-in lines are not recorded."""
    lines = list(bill.lines.select_related("guest").order_by("position", "id"))
    shares = _staff_of(lines)
    tenders = _tenders_text(bill)
    recorded = []
    for line in lines:
        client = _client_of(line, bill)
        if client is None or bill.paid_at is None:
            continue
        staff = shares.get(line.pk, [])
        recorded.append(
            purchase_record(
                client=client,
                occurred_at=bill.paid_at,
                item_name=line.name,
                amount=line.amount,
                kind=line.kind if line.kind in PurchaseKind.values else PurchaseKind.OTHER,
                quantity=line.quantity,
                staff=staff[0].staff if staff else None,
                staff_name="、".join(s.staff.name for s in staff)[:100],
                tender=tenders,
                location=bill.location,
                visit_reference=f"pos:bill:{bill.pk}",
                reference=f"pos:bill-line:{line.pk}",
                note=bill.number,
            )
        )
    return recorded


@transaction.atomic
def purchase_history_record_for_refund(*, refund: Refund) -> list[PurchaseLine]:
    """Record each line of a succeeded refund as a negative line (what came back, at the refund's time)
    in the history of the client the bill line was recorded for."""
    bill = refund.bill
    tenders = ", ".join(
        dict.fromkeys(
            str(_TENDER_LABELS.get(method, method))
            for method in refund.tender_parts.order_by("id").values_list("tender__method", flat=True)
        )
    )[:100]
    recorded = []
    for part in refund.lines.select_related("bill_line__guest").order_by("id"):
        line = part.bill_line
        client = _client_of(line, bill)
        if client is None or part.amount == 0:
            continue
        recorded.append(
            purchase_record(
                client=client,
                occurred_at=refund.created_at,
                item_name=line.name,
                amount=-part.amount,
                kind=line.kind if line.kind in PurchaseKind.values else PurchaseKind.OTHER,
                quantity=max(part.quantity, 1),
                tender=tenders,
                location=bill.location,
                visit_reference=f"pos:bill:{bill.pk}",
                reference=f"pos:refund-line:{part.pk}",
                note=refund.reason[:200],
            )
        )
    return recorded
