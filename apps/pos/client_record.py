"""What the till adds to the client record (crm's registries, filled from PosConfig.ready): the "Bills"
section of the 360° page, the rows a client merge moves, and the bills in a personal-data export."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from apps.crm.merge import MergeParticipant, merge_participant_register
from apps.crm.models import Client
from apps.crm.sections import ClientSection, client_section_register
from apps.crm.services.privacy import PersonalDataHolder, personal_data_register
from apps.pos.models import Bill, BillLine, InvoiceRequest, Refund, Tender, TenderStatus

RECENT_BILLS = 10


def client_recent_bills(client: Client, *, limit: int = RECENT_BILLS) -> list[Bill]:
    """The client's latest bills (open ones too), newest first, each with its succeeded tenders: three
    queries however many bills."""
    return list(
        Bill.objects.filter(client=client)
        .select_related("location")
        .prefetch_related(
            Prefetch(
                "tenders",
                queryset=Tender.objects.filter(status=TenderStatus.SUCCEEDED).order_by("id"),
                to_attr="paid_tenders",
            )
        )
        .order_by("-opened_at", "-id")[:limit]
    )


def _section(request: HttpRequest, client: Client) -> dict[str, Any]:
    return {"bills": client_recent_bills(client)}


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _rows(queryset: Any, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in queryset.values(*fields)]


def _export(client: Client) -> dict[str, Any]:
    """The client's bills with their lines, tenders, refunds and invoice requests (which may carry the
    client's name, tax ID and e-mail)."""
    bills = _rows(
        Bill.objects.filter(client=client).order_by("opened_at", "id"),
        (
            "id",
            "number",
            "location__name",
            "status",
            "subtotal",
            "discount_total",
            "total",
            "paid_total",
            "refunded_total",
            "notes",
            "opened_at",
            "paid_at",
            "voided_at",
        ),
    )
    ids = [bill["id"] for bill in bills]
    children: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for key, queryset, fields in (
        (
            "lines",
            BillLine.objects.filter(bill_id__in=ids).order_by("position", "id"),
            ("bill_id", "kind", "name", "quantity", "unit_price", "discount", "amount", "refunded_amount", "notes"),
        ),
        (
            "tenders",
            Tender.objects.filter(bill_id__in=ids, status=TenderStatus.SUCCEEDED).order_by("id"),
            ("bill_id", "method", "amount", "refunded_amount", "settled_at"),
        ),
        (
            "refunds",
            Refund.objects.filter(bill_id__in=ids).order_by("id"),
            ("bill_id", "amount", "reason", "status", "created_at"),
        ),
        (
            "invoice_requests",
            InvoiceRequest.objects.filter(bill_id__in=ids).order_by("id"),
            (
                "bill_id",
                "invoice_type",
                "title",
                "buyer_tax_id",
                "buyer_address",
                "buyer_bank",
                "email",
                "amount",
                "status",
                "invoice_number",
                "issued_on",
                "requested_at",
            ),
        ),
    ):
        grouped: dict[int, list[dict[str, Any]]] = {}
        for row in _rows(queryset, fields):
            grouped.setdefault(row.pop("bill_id"), []).append(row)
        children[key] = grouped
    # Lines the client was the guest of on someone else's group bill.
    guest_lines = _rows(
        BillLine.objects.filter(guest=client).exclude(bill__client=client).order_by("bill__opened_at", "id"),
        ("bill__number", "bill__paid_at", "kind", "name", "quantity", "amount"),
    )
    return {
        "bills": [{**bill, **{key: children[key].get(bill["id"], []) for key in children}} for bill in bills],
        "group_bill_lines": guest_lines,
    }


def register() -> None:
    for participant in (
        MergeParticipant("pos.bill", Bill),
        MergeParticipant("pos.bill_line_guest", BillLine, field="guest"),
    ):
        merge_participant_register(participant)
    # Bills, refunds and invoice requests are financial and tax records: an erasure keeps them (crm
    # de-identifies the client row itself), so there is no erase callback.
    personal_data_register(PersonalDataHolder("pos", _export))
    client_section_register(
        ClientSection(
            "bills",
            gettext_lazy("Bills"),
            "pos/reports/section_bills.html",
            _section,
            order=15,
            permission="take_payments",
        )
    )
