"""What the till adds to the client 360° page (CRM-11): the Bills section, the purchase history the paid
bills and refunds write (CRM-4) with its summary, the member balances beside them, and the client's
bills in a merge and a personal-data export."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_tenants.utils import schema_context

from apps.crm.models import PurchaseLine
from apps.crm.selectors import client_summary
from apps.crm.services.merge import client_merge, client_merge_undo
from apps.crm.services.privacy import client_personal_data
from apps.loyalty.services.wallets import wallet_top_up
from apps.pos.client_record import client_recent_bills
from apps.pos.models import Bill, BillLine
from apps.pos.services.client_history import purchase_history_record_for_bill, purchase_history_record_for_refund
from apps.pos.services.invoices import invoice_request_create
from apps.pos.tests.factories_reports import Line, bill_paid
from apps.pos.tests.scenario_reports import arrange_march, at, beta_bill
from tests.fixtures import logged_in_client, make_staff, owner_of


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _record_history(march) -> None:  # type: ignore[no-untyped-def]
    for key in ("B1", "B3", "B5", "B6", "B8", "B10"):
        purchase_history_record_for_bill(bill=march.bills[key])
    for bill in (march.bills["B5"], march.bills["B3"]):
        for refund in bill.refunds.filter(status="succeeded"):
            purchase_history_record_for_refund(refund=refund)


def test_paid_bills_and_refunds_write_the_purchase_history_once(in_alpha):
    # given
    march = arrange_march()
    # when (twice: a retried payment records nothing new)
    _record_history(march)
    _record_history(march)
    # then
    wang = list(
        PurchaseLine.objects.filter(client=march.wang)
        .order_by("occurred_at", "id")
        .values_list("item_name", "kind", "quantity", "amount", "tender", "note")
    )
    b1, b3, b6 = march.bills["B1"], march.bills["B3"], march.bills["B6"]
    assert wang == [
        ("Cut", "service", 1, 10_000, "Cash", b3.number),
        ("Cut", "service", 2, 20_000, "Cash", b1.number),
        ("Shampoo", "product", 2, 16_000, "Cash", b1.number),
        ("Cut", "service", 1, -10_000, "Cash", "client unhappy"),
        ("储值充值", "top_up", 1, 100_000, "Cash", b6.number),
    ]
    li = PurchaseLine.objects.filter(client=march.li)
    assert li.count() == 6  # B5 ×2, B8 ×2, B10, and the mask refunded
    b5_line = li.get(item_name="Colour")
    assert (b5_line.tender, b5_line.location, b5_line.visit_reference) == (
        "Stored value + Alipay",
        march.branch,
        f"pos:bill:{march.bills['B5'].pk}",
    )
    assert li.get(amount=-5_000).item_name == "Mask"
    # the summary leaves the top-up out of the spend: it is spent when it buys something
    summary = client_summary(client=march.wang)
    assert (summary.total_spend, summary.visits, summary.average_ticket) == (36_000, 2, 18_000)


def test_the_360_page_shows_bills_history_and_balances(alpha, beta):
    # given
    with schema_context(beta.schema):  # another salon's bill stays on its own record
        other_bill = beta_bill()
    with schema_context(alpha.schema):
        march = arrange_march()
        _record_history(march)
        wallet_top_up(client=march.li, amount=50_000, idempotency_key="test:li")
        li_bills = {key: march.bills[key] for key in ("B5", "B7", "B8", "B9", "B10")}
    desk = make_staff(alpha, role="front_desk", username="desk")
    assert desk is not None
    page_client = logged_in_client(alpha, "desk")
    page_client.post("/account/language/", {"language": "en"})
    # when
    page = page_client.get(f"/clients/{march.li.pk}/").content.decode()
    # then: the Bills section, newest first, with the tenders and a link to each bill
    assert '<h2 id="section-bills-heading">Bills</h2>' in page
    section = page[
        page.index('id="section-bills-heading"') : page.index("</section>", page.index('id="section-bills-heading"'))
    ]
    order = [section.index(li_bills[key].number) for key in ("B10", "B9", "B8", "B7", "B5")]
    assert order == sorted(order)
    b5 = li_bills["B5"]
    assert f'<a href="/till/bills/{b5.pk}/">{b5.number}</a>' in section
    assert "Stored value ¥200.00 + Alipay ¥150.00" in section
    assert "(¥50.00 refunded)" in section
    assert '<tr data-status="voided">' in section
    assert other_bill.number not in page
    assert f'<a href="/till/invoices/new/?bill={b5.pk}">Request an invoice</a>' in section
    # the purchase history and the member account show the real figures
    assert 'data-figure="total_spend">¥1,080.00<' in page  # 350 + 700 + 80 − 50 (the mask refunded)
    assert '<dd data-figure="stored-value">¥500.00</dd>' in page
    # a technician sees no bills
    make_staff(alpha, role="technician", username="tech")
    tech_page = logged_in_client(alpha, "tech").get(f"/clients/{march.li.pk}/").content.decode()
    assert "section-bills-heading" not in tech_page


def test_bills_section_reads_a_fixed_number_of_queries(in_alpha):
    # given
    march = arrange_march()
    client_recent_bills(march.li)
    with CaptureQueriesContext(connection) as few:
        bills = client_recent_bills(march.li)
    for n in range(6):
        bill_paid(lines=[Line(march.cut)], paid_at=at(3, 20 + n, 12), client=march.li)
    # when
    with CaptureQueriesContext(connection) as many:
        more = client_recent_bills(march.li)
        tenders = [t.method for bill in more for t in bill.paid_tenders]
    # then
    assert (len(bills), len(more), len(tenders)) == (5, 10, 10)
    count = sum(1 for q in many.captured_queries if not q["sql"].startswith("SET search_path"))
    assert count == sum(1 for q in few.captured_queries if not q["sql"].startswith("SET search_path")) == 2


def test_merge_moves_bills_and_guest_lines_and_undo_moves_them_back(in_alpha):
    # given: Li also appears as a guest on Wang's group bill
    march = arrange_march()
    guest_bill = bill_paid(lines=[Line(march.cut, guest=march.li)], paid_at=at(3, 22, 12), client=march.wang)
    li_bills = set(Bill.objects.filter(client=march.li).values_list("pk", flat=True))
    # when
    merge = client_merge(survivor=march.wang, merged=march.li, acting_user=owner_of(in_alpha))
    # then
    assert set(merge.moved["pos.bill"]) == li_bills
    assert Bill.objects.filter(client=march.li).count() == 0
    assert BillLine.objects.get(bill=guest_bill).guest == march.wang
    client_merge_undo(merge=merge, acting_user=owner_of(in_alpha))
    assert set(Bill.objects.filter(client=march.li).values_list("pk", flat=True)) == li_bills
    assert BillLine.objects.get(bill=guest_bill).guest == march.li


def test_personal_data_export_holds_the_bills(in_alpha):
    # given
    march = arrange_march()
    owner = owner_of(in_alpha)
    invoice_request_create(
        bill=march.bills["B5"], title="Li Na", email="li@example.com", amount=10_000, acting_user=owner
    )
    # when
    data = client_personal_data(client=march.li, acting_user=owner)["pos"]
    # then
    numbers = [bill["number"] for bill in data["bills"]]
    assert numbers == [march.bills[k].number for k in ("B5", "B7", "B8", "B9", "B10")]
    b5 = data["bills"][0]
    assert (b5["status"], b5["total"], b5["refunded_total"], b5["location__name"]) == ("paid", 35_000, 5_000, "Branch")
    assert [(line["name"], line["amount"]) for line in b5["lines"]] == [("Colour", 30_000), ("Mask", 5_000)]
    assert [(t["method"], t["amount"]) for t in b5["tenders"]] == [("stored_value", 20_000), ("alipay", 15_000)]
    assert [(r["amount"], r["status"]) for r in b5["refunds"]] == [(5_000, "succeeded")]
    assert [(i["title"], i["email"], i["status"]) for i in b5["invoice_requests"]] == [
        ("Li Na", "li@example.com", "requested")
    ]
    assert data["group_bill_lines"] == []
