"""Invoice (发票) requests (POS-10): what may be invoiced on a bill (paid, less refunds, less earlier
requests), the buyer's tax ID, the status flow with its permissions, bad input refused with nothing
written, the pages and the API, and two requests racing for the last yuan of a bill."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from django_tenants.utils import schema_context

from apps.catalog.services import service_create
from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.core.services import staff_create
from apps.pos.models import InvoiceRequest, InvoiceStatus
from apps.pos.services.invoices import (
    credit_code_valid,
    invoice_amount_open,
    invoice_request_cancel,
    invoice_request_create,
    invoice_request_issue,
    invoice_request_reject,
    tax_id_normalize,
)
from apps.pos.tests.factories_reports import Line, bill_paid, bill_voided, refund_make
from apps.pos.tests.scenario_reports import arrange_march, at
from tests.fixtures import api_token, logged_in_client, make_staff, owner_of
from tests.races import race, salon_for_races

COMPANY = "91350100M000100Y43"  # a unified social credit code with a correct check character
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def test_tax_ids():
    assert credit_code_valid(COMPANY)
    assert credit_code_valid("91110000600037341L")
    assert not credit_code_valid("91350100M000100Y44")  # wrong check character
    assert not credit_code_valid("91350100M000I00Y43")  # I is not used
    assert not credit_code_valid("9135A100M000100Y43")  # the area code is digits
    assert tax_id_normalize(" 9135 0100-M000100y43 ") == COMPANY
    assert tax_id_normalize("110108700000014") == "110108700000014"  # old 15-character tax number
    assert tax_id_normalize("11010819900101123X01") == "11010819900101123X01"  # old 20-character
    assert tax_id_normalize("") == ""
    for bad in ("12345", "91350100M000100Y4", "ABCDEF700000014", "110108700000014!"):
        with pytest.raises(ServiceError) as refused:
            tax_id_normalize(bad)
        assert refused.value.field == "buyer_tax_id", bad


def test_request_issue_and_what_is_left(in_alpha):
    # given: B5 paid ¥350, ¥50 refunded
    march = arrange_march()
    owner = owner_of(in_alpha)
    b5 = march.bills["B5"]
    assert invoice_amount_open(b5) == 30_000
    # when
    first = invoice_request_create(
        bill=b5,
        title="Fujian Example Co., Ltd.",
        buyer_tax_id=COMPANY.lower(),
        email="books@example.com",
        amount=20_000,
        acting_user=owner,
    )
    # then
    first.refresh_from_db()
    assert (first.status, first.buyer_tax_id, first.amount, first.requested_by, first.invoice_type) == (
        "requested",
        COMPANY,
        20_000,
        owner,
        "general",
    )
    assert invoice_amount_open(b5) == 10_000
    with pytest.raises(ServiceError) as too_much:
        invoice_request_create(bill=b5, title="Li Na", amount=10_001, acting_user=owner)
    assert too_much.value.errors == {"amount": ["At most ¥100.00 is left to invoice on this bill."]}
    # issued with the PDF
    issued = invoice_request_issue(
        request=first,
        invoice_number="26352000000012345678",
        issued_on=datetime.date(2026, 3, 21),
        file=SimpleUploadedFile("fapiao.pdf", PDF),
        acting_user=owner,
    )
    assert (issued.status, issued.invoice_number, issued.file_type, issued.decided_by) == (
        "issued",
        "26352000000012345678",
        "application/pdf",
        owner,
    )
    assert issued.file.read() == PDF
    # a rejected or cancelled request frees its amount
    second = invoice_request_create(bill=b5, title="Li Na", amount=10_000, acting_user=owner)
    assert invoice_amount_open(b5) == 0
    invoice_request_reject(request=second, reason="A company title needs a tax ID", acting_user=owner)
    assert invoice_amount_open(b5) == 10_000
    assert list(
        AuditEntry.objects.filter(action__startswith="pos.invoice.").order_by("id").values_list("action", flat=True)
    ) == [
        "pos.invoice.requested",
        "pos.invoice.issued",
        "pos.invoice.requested",
        "pos.invoice.rejected",
    ]


def test_refused_requests_write_nothing(in_alpha):
    # given
    march = arrange_march()
    owner = owner_of(in_alpha)
    b1 = march.bills["B1"]  # ¥360 paid, nothing refunded
    voided = march.bills["B7"]
    good = {"bill": b1, "title": "Wang Fang", "amount": 10_000}
    cases: list[tuple[dict[str, Any], str | None, int]] = [
        ({"amount": 0}, "amount", 400),
        ({"amount": 36_001}, "amount", 400),
        ({"title": "  "}, "title", 400),
        ({"buyer_tax_id": "91350100M000100Y44"}, "buyer_tax_id", 400),
        ({"email": "not-an-address"}, "email", 400),
        ({"invoice_type": "special", "buyer_tax_id": COMPANY, "buyer_address": "Fuzhou"}, "buyer_bank", 400),
        ({"invoice_type": "red"}, "invoice_type", 400),
        ({"bill": voided}, None, 409),
    ]
    for change, field, status in cases:
        # when
        with pytest.raises(ServiceError) as refused:
            invoice_request_create(acting_user=owner, **{**good, **change})
        # then
        assert refused.value.status == status, change
        assert (
            (list(refused.value.errors) == [field])
            if field
            else refused.value.message == ("Only a paid bill can be invoiced.")
        )
    assert InvoiceRequest.objects.count() == 0
    special = invoice_request_create(
        acting_user=owner,
        **{
            **good,
            "invoice_type": "special",
            "buyer_tax_id": COMPANY,
            "buyer_address": "Fuzhou, 0591-1234567",
            "buyer_bank": "Bank of China 1234",
        },
    )
    assert special.invoice_type == "special"


def test_status_flow_and_permissions(in_alpha):
    # given
    march = arrange_march()
    desk = make_staff(in_alpha, role="front_desk", username="desk")
    books = make_staff(in_alpha, role="accountant", username="books")
    with schema_context(in_alpha.schema):
        b8 = march.bills["B8"]
        with pytest.raises(ServiceError) as accountant_requests:
            invoice_request_create(bill=b8, title="Li Na", amount=100, acting_user=books)
        assert accountant_requests.value.status == 403
        request = invoice_request_create(bill=b8, title="Li Na", amount=70_000, acting_user=desk)
        # the front desk may not issue or reject
        for act in (
            lambda: invoice_request_issue(
                request=request, invoice_number="1", issued_on=datetime.date(2026, 3, 16), acting_user=desk
            ),
            lambda: invoice_request_reject(request=request, reason="no", acting_user=desk),
        ):
            with pytest.raises(ServiceError) as denied:
                act()
            assert denied.value.status == 403
        request.refresh_from_db()
        assert request.status == InvoiceStatus.REQUESTED
        # issuing needs a number and a date not in the future
        for number, day, field in (
            ("", datetime.date(2026, 3, 16), "invoice_number"),
            ("9", datetime.date(2099, 1, 1), "issued_on"),
        ):
            with pytest.raises(ServiceError) as refused:
                invoice_request_issue(request=request, invoice_number=number, issued_on=day, acting_user=books)
            assert list(refused.value.errors) == [field]
        with pytest.raises(ServiceError) as bad_file:
            invoice_request_issue(
                request=request,
                invoice_number="9",
                issued_on=datetime.date(2026, 3, 16),
                file=SimpleUploadedFile("x.pdf", b"<html>not a pdf</html>"),
                acting_user=books,
            )
        assert bad_file.value.errors == {"file": ["Attach a PDF, JPEG, PNG or WebP file."]}
        # a refund made since the request leaves less to invoice than asked
        refund_make(bill=b8, created_at=at(3, 16, 9), lines=[(b8.lines.order_by("position")[0], 1, 10_000)])
        with pytest.raises(ServiceError) as since_refund:
            invoice_request_issue(
                request=request, invoice_number="9", issued_on=datetime.date(2026, 3, 16), acting_user=books
            )
        assert since_refund.value.errors == {"amount": ["At most ¥600.00 is left to invoice on this bill."]}
        # the front desk cancels it and asks again for what is left
        cancelled = invoice_request_cancel(request=request, reason="refund", acting_user=desk)
        assert (cancelled.status, cancelled.decided_by) == ("cancelled", desk)
        again = invoice_request_create(bill=b8, title="Li Na", amount=60_000, acting_user=desk)
        issued = invoice_request_issue(
            request=again, invoice_number="0001", issued_on=datetime.date(2026, 3, 17), acting_user=books
        )
        # an issued request is closed; its number is taken
        with pytest.raises(ServiceError) as closed:
            invoice_request_cancel(request=issued, acting_user=desk)
        assert (closed.value.status, closed.value.message) == (409, "This invoice request was already handled.")
        other = invoice_request_create(bill=march.bills["B1"], title="Wang Fang", amount=100, acting_user=desk)
        with pytest.raises(ServiceError) as taken:
            invoice_request_issue(
                request=other, invoice_number="0001", issued_on=datetime.date(2026, 3, 17), acting_user=books
            )
        assert (taken.value.status, taken.value.errors) == (
            409,
            {"invoice_number": ["Another issued invoice already has this number."]},
        )
        other.refresh_from_db()
        assert (other.status, other.invoice_number) == ("requested", "")


def _api(info: Any, username: str | None = None) -> Client:
    return Client(
        HTTP_HOST=info.host,
        HTTP_AUTHORIZATION=f"Bearer {api_token(info, username or info.owner_username)}",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_api(alpha, beta):
    # given
    with schema_context(alpha.schema):
        march = arrange_march()
    make_staff(alpha, role="front_desk", username="desk")
    make_staff(alpha, role="accountant", username="books")
    desk, books = _api(alpha, "desk"), _api(alpha, "books")
    b5 = march.bills["B5"]
    # when: the front desk requests, the accountant issues with the PDF
    made = desk.post(
        "/api/v1/invoice-requests/",
        {"bill": b5.pk, "title": "Fujian Example Co., Ltd.", "buyer_tax_id": COMPANY, "amount": 30_000},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    issued = books.post(
        f"/api/v1/invoice-requests/{pk}/issue/",
        {"invoice_number": "26352000000099", "issued_on": "2026-03-22", "file": SimpleUploadedFile("f.pdf", PDF)},
    )
    # then
    assert issued.status_code == 200, issued.content
    body = issued.json()
    assert (body["status"], body["bill_number"], body["amount"], body["invoice_number"], body["issued_on"]) == (
        "issued",
        b5.number,
        30_000,
        "26352000000099",
        "2026-03-22",
    )
    assert b"".join(desk.get(body["file_url"]).streaming_content) == PDF
    # bad input: 400, nothing written
    for change, field in (
        ({"amount": 1}, "amount"),  # nothing left on B5
        ({"amount": "ten"}, "amount"),
        ({"bill": 999_999}, "bill"),
        ({"buyer_tax_id": "123"}, "buyer_tax_id"),
        ({"title": ""}, "title"),
    ):
        response = desk.post(
            "/api/v1/invoice-requests/",
            {"bill": b5.pk, "title": "X", "amount": 100, **change},
            content_type="application/json",
        )
        assert (response.status_code, list(response.json())) == (400, [field]), change
    voided = desk.post(
        "/api/v1/invoice-requests/",
        {"bill": march.bills["B7"].pk, "title": "X", "amount": 100},
        content_type="application/json",
    )
    assert (voided.status_code, voided.json()["code"]) == (409, "invoice_bill_not_paid")
    # permissions
    assert (
        books.post(
            "/api/v1/invoice-requests/", {"bill": b5.pk, "title": "X", "amount": 1}, content_type="application/json"
        ).status_code
        == 403
    )
    second = desk.post(
        "/api/v1/invoice-requests/",
        {"bill": march.bills["B1"].pk, "title": "Wang Fang", "amount": 100},
        content_type="application/json",
    ).json()
    assert desk.post(f"/api/v1/invoice-requests/{second['id']}/reject/", {"reason": "x"}).status_code == 403
    assert books.post(f"/api/v1/invoice-requests/{second['id']}/reject/", {}).status_code == 400
    assert books.post(f"/api/v1/invoice-requests/{second['id']}/reject/", {"reason": "wrong title"}).json()[
        "status"
    ] == ("rejected")
    with schema_context(alpha.schema):
        assert InvoiceRequest.objects.count() == 2
    # the list and its filters
    issued_only = books.get("/api/v1/invoice-requests/", {"status": "issued"}).json()
    assert [row["id"] for row in issued_only["results"]] == [pk]
    assert desk.get("/api/v1/invoice-requests/", {"q": "26352000000099"}).json()["count"] == 1
    assert desk.get("/api/v1/invoice-requests/", {"q": b5.number}).json()["count"] == 1
    make_staff(alpha, role="technician", username="tech")
    assert _api(alpha, "tech").get("/api/v1/invoice-requests/").status_code == 403
    assert _api(beta).get("/api/v1/invoice-requests/").json()["count"] == 0


def test_pages(alpha):
    # given
    with schema_context(alpha.schema):
        march = arrange_march()
    make_staff(alpha, role="front_desk", username="desk")
    make_staff(alpha, role="accountant", username="books")
    desk = logged_in_client(alpha, "desk")
    desk.post("/account/language/", {"language": "en"})
    books = logged_in_client(alpha, "books")
    books.post("/account/language/", {"language": "en"})
    b8 = march.bills["B8"]
    # the request form offers what is left on the bill
    form = desk.get("/till/invoices/new/", {"bill": b8.pk}).content.decode()
    assert f'value="{b8.number}"' in form and 'value="700.00"' in form
    refused = desk.post(
        "/till/invoices/new/",
        {"bill_number": b8.number, "invoice_type": "general", "title": "Li Na", "amount": "700.01"},
    )
    assert refused.status_code == 400
    assert "At most ¥700.00 is left to invoice on this bill." in refused.content.decode()
    unknown = desk.post(
        "/till/invoices/new/", {"bill_number": "nope", "invoice_type": "general", "title": "Li Na", "amount": "1"}
    )
    assert "No bill has this number." in unknown.content.decode()
    made = desk.post(
        "/till/invoices/new/",
        {
            "bill_number": b8.number,
            "invoice_type": "general",
            "title": "Li Na",
            "amount": "700",
            "email": "li@example.com",
        },
    )
    assert made.status_code == 302
    with schema_context(alpha.schema):
        request = InvoiceRequest.objects.get()
    # the front desk sees no issue form; the accountant issues with a photo of the paper invoice
    assert "Mark as issued" not in desk.get(f"/till/invoices/{request.pk}/").content.decode()
    assert (
        desk.post(f"/till/invoices/{request.pk}/", {"action": "issue", "issue-invoice_number": "1"}).status_code == 403
    )
    issued = books.post(
        f"/till/invoices/{request.pk}/",
        {
            "action": "issue",
            "issue-invoice_number": "No. 00012345",
            "issue-issued_on": "2026-03-16",
            "issue-file": SimpleUploadedFile("fapiao.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert issued.status_code == 302
    page = books.get(f"/till/invoices/{request.pk}/").content.decode()
    assert '<dd data-figure="invoice-number">No. 00012345</dd>' in page
    assert books.get(f"/till/invoices/{request.pk}/file/")["Content-Type"] == "application/pdf"
    listed = desk.get("/till/invoices/", {"status": "issued"}).content.decode()
    assert b8.number in listed and "No. 00012345" in listed
    make_staff(alpha, role="technician", username="tech")
    assert logged_in_client(alpha, "tech").get("/till/invoices/").status_code == 403


def test_pages_in_chinese_say_when_it_was_requested_and_its_status(alpha):
    # given a request waiting to be issued, and the front desk in Chinese (the staff's default)
    with schema_context(alpha.schema):
        march = arrange_march()
        request = invoice_request_create(
            bill=march.bills["B8"], title="Li Na", amount=10_000, acting_user=owner_of(alpha)
        )
    make_staff(alpha, role="front_desk", username="desk")
    desk = logged_in_client(alpha, "desk")

    # when the list and the request are opened
    listed = desk.get("/till/invoices/").content.decode()
    detail = desk.get(f"/till/invoices/{request.pk}/").content.decode()

    # then "Requested" is the time of the request (申请时间) as a heading, and the status 已申请 — never 点钟
    assert '<thead><tr><th scope="col">申请时间</th>' in listed
    assert "<td>已申请</td>" in listed
    assert "<dt>申请时间</dt>" in detail and '<small class="muted">已申请</small>' in detail
    assert "点钟" not in listed and "点钟" not in detail


# --- concurrency ----------------------------------------------------------------------------------

THREADS = 8


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("invoice-race") as schema:
        yield schema


def test_requests_racing_for_what_is_left_on_a_bill_get_it_once(race_salon):
    # given a bill paid ¥100 and eight cashiers
    with schema_context(race_salon):
        cut = service_create(name="Cut", duration_minutes=30, price=10_000)
        bill = bill_paid(lines=[Line(cut)], paid_at=at(3, 1, 12), tenders=None)
        cashiers = [
            staff_create(name=f"Cashier {i}", role="front_desk", username=f"cashier{i}", password="Passw0rd-x")
            for i in range(THREADS)
        ]

    # when all of them request an invoice for the whole bill at the same moment
    def work(i: int) -> Any:
        with translation.override("en"):
            return invoice_request_create(bill=bill, title=f"Buyer {i}", amount=10_000, acting_user=cashiers[i])

    outcomes = race(race_salon, THREADS, work)

    # then one request holds the ¥100; the others were told nothing is left
    made = [o for o in outcomes if isinstance(o, InvoiceRequest)]
    refused = [o for o in outcomes if isinstance(o, ServiceError)]
    assert (len(made), len(refused)) == (1, THREADS - 1), outcomes
    with translation.override("en"):
        assert {str(e.errors["amount"][0]) for e in refused} == {"At most ¥0.00 is left to invoice on this bill."}
    with schema_context(race_salon):
        assert list(InvoiceRequest.objects.values_list("amount", flat=True)) == [10_000]


def test_voided_bill_has_nothing_to_invoice(in_alpha):
    cut = service_create(name="Cut", duration_minutes=30, price=10_000)
    voided = bill_voided(lines=[Line(cut)], voided_at=at(3, 1, 12))
    paid = bill_paid(lines=[Line(cut)], paid_at=at(3, 1, 12), tenders=None)
    refund_make(bill=paid, created_at=at(3, 2, 9), lines=[(paid.lines.get(), 1, 10_000)])
    paid.refresh_from_db()
    assert (invoice_amount_open(voided), paid.status, invoice_amount_open(paid)) == (0, "refunded", 0)
