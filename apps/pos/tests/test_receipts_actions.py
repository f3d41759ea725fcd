"""Printing a receipt at the front desk and sending it to the client (POS-3): one job however often
"print" is pressed, numbered copies on request, the e-receipt once per paid bill through messaging, the
API, permissions and bad input; two salons."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.edge.models import PrintJob
from apps.messaging import sms, wechat
from apps.messaging.models import Delivery
from apps.pos.errors import PosError
from apps.pos.models import Bill, EReceipt, PosSettings, TenderMethod
from apps.pos.selectors.receipts import receipt_bill, receipt_build
from apps.pos.services.receipts import receipt_on_bill_paid, receipt_print, receipt_send
from apps.pos.tests.factories_receipts import (
    LineSpec,
    TenderSpec,
    bill_paid_make,
    cash_bill_make,
    client_make,
    english,  # noqa: F401  (fixture, used by pytestmark)
    english_staff,
    location_make,
    staff_make,
)
from apps.scheduling.models import ClientBookingProfile
from tests.fixtures import api_token, logged_in_client, make_staff

pytestmark = pytest.mark.usefixtures("english")

PAID_AT = datetime.datetime(2030, 3, 4, 2, 30, tzinfo=datetime.UTC)  # 10:30 in Shanghai


@pytest.fixture(autouse=True)
def _outboxes() -> Iterator[None]:
    sms.outbox.clear()
    wechat.outbox.clear()
    yield
    sms.outbox.clear()
    wechat.outbox.clear()


def _bill(client: Any = None, **kwargs: Any) -> Bill:
    return bill_paid_make(
        lines=[LineSpec("洗剪吹", 12_800)],
        tenders=[TenderSpec(TenderMethod.CASH, 12_800, tendered=20_000)],
        location=kwargs.pop("location", None) or location_make("南京西路店"),
        client=client,
        cashier=kwargs.pop("cashier", None) or staff_make("林芳"),
        paid_at=PAID_AT,
        number=kwargs.pop("number", "20300304-0001"),
        **kwargs,
    )


def _api(info: Any, username: str) -> HttpClient:
    return HttpClient(
        HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}", HTTP_ACCEPT_LANGUAGE="en"
    )


# --- printing -------------------------------------------------------------------------------------


def test_print_clicked_twice_queues_one_job_and_a_copy_is_the_second_numbered(alpha):
    # given a paid bill and a cashier on its receipt page
    with schema_context(alpha.schema):
        bill = _bill()
    english_staff(alpha, role="front_desk", username="desk")
    page = logged_in_client(alpha, "desk")
    url = f"/till/bills/{bill.pk}/receipt/print/"

    # when "Print at the front desk" is clicked twice, then "Print a copy" twice with one page's key, then again
    first = page.post(url, {"key": "r1-print", "width": "58"})
    page.post(url, {"key": "r1-print", "width": "58"})
    page.post(url, {"key": "r2-print"})  # the page reloaded: a new key, the same receipt
    page.post(url, {"key": "r1-copy", "copy": "1"})
    page.post(url, {"key": "r1-copy", "copy": "1"})
    page.post(url, {"key": "r3-copy", "copy": "1"})

    # then one original and two numbered copies are queued, each marked on the paper
    assert first.status_code == 302 and first["Location"] == f"/till/bills/{bill.pk}/receipt/?width=58"
    with schema_context(alpha.schema):
        jobs = list(PrintJob.objects.order_by("pk"))
    assert [(j.kind, j.reference, j.copy_number, j.status) for j in jobs] == [
        ("receipt", f"bill:{bill.pk}", 0, "queued"),
        ("receipt", f"bill:{bill.pk}", 1, "queued"),
        ("receipt", f"bill:{bill.pk}", 2, "queued"),
    ]
    assert jobs[0].payload["width"] == 58 and jobs[0].payload["columns"] == 32
    assert "单号：20300304-0001" in jobs[0].text
    assert jobs[1].text.splitlines()[0].strip() == "*** 重印 1 ***"
    assert jobs[2].text.splitlines()[0].strip() == "*** 重印 2 ***"
    assert jobs[1].text.splitlines()[1:] != jobs[0].text.splitlines()[:1]


def test_print_through_the_api_and_the_print_jobs_endpoint(alpha):
    # given a paid bill and a cashier's token
    with schema_context(alpha.schema):
        bill = _bill()
    make_staff(alpha, role="front_desk", username="desk")
    api = _api(alpha, "desk")

    # when the till prints the order, prints it again, asks for a copy, and prints it through /print-jobs/
    created = api.post(f"/api/v1/orders/{bill.pk}/print/", {}, content_type="application/json")
    again = api.post(f"/api/v1/orders/{bill.pk}/print/", {}, content_type="application/json")
    copy = api.post(f"/api/v1/orders/{bill.pk}/print/", {"copy": True}, content_type="application/json")
    through_jobs = api.post("/api/v1/print-jobs/", {"source": "bill", "id": bill.pk}, content_type="application/json")

    # then one original (201, then 200 with the same job) and one copy
    assert created.status_code == 201 and created.json()["copy_number"] == 0
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert copy.status_code == 201 and copy.json()["copy_number"] == 1
    assert through_jobs.status_code == 200 and through_jobs.json()["id"] == created.json()["id"]
    assert created.json()["payload"]["lines"][0]["text"] == "Alpha Salon"
    with schema_context(alpha.schema):
        assert PrintJob.objects.count() == 2


def test_printing_what_cannot_be_printed_writes_nothing(alpha):
    # given an open bill
    with schema_context(alpha.schema):
        paid = _bill()
        open_bill = Bill.objects.create(number="20300304-0002", location=paid.location)
    make_staff(alpha, role="front_desk", username="desk")
    make_staff(alpha, role="technician", username="tech")
    api, tech = _api(alpha, "desk"), _api(alpha, "tech")

    # when the open bill is printed, a missing bill, nonsense input, and a technician prints the paid one
    not_paid = api.post(f"/api/v1/orders/{open_bill.pk}/print/", {}, content_type="application/json")
    missing = api.post("/api/v1/orders/999999/print/", {}, content_type="application/json")
    missing_source = api.post("/api/v1/print-jobs/", {"source": "bill", "id": 999999}, content_type="application/json")
    bad_width = api.post(f"/api/v1/orders/{paid.pk}/print/", {"width": 76}, content_type="application/json")
    bad_copy = api.post(f"/api/v1/orders/{paid.pk}/print/", {"copy": "often"}, content_type="application/json")
    denied = tech.post(f"/api/v1/orders/{paid.pk}/print/", {}, content_type="application/json")
    denied_source = tech.post("/api/v1/print-jobs/", {"source": "bill", "id": paid.pk}, content_type="application/json")

    # then 409, 404, 400s and 403s, and no job
    assert not_paid.status_code == 409
    assert not_paid.json() == {
        "detail": "A receipt is available once the bill is paid.",
        "code": "receipt_not_available",
    }
    assert missing.status_code == 404
    assert missing_source.status_code == 400 and missing_source.json() == {"id": ["Nothing with this id exists."]}
    assert bad_width.status_code == 400 and "width" in bad_width.json()
    assert bad_copy.status_code == 400 and "copy" in bad_copy.json()
    assert denied.status_code == 403 and denied_source.status_code == 403
    with schema_context(alpha.schema):
        assert PrintJob.objects.count() == 0


def test_receipt_api_json_and_pdf(alpha, beta):
    # given a paid bill in alpha
    with schema_context(alpha.schema):
        bill = _bill(client=client_make("王芳", phone="+8613912345678"))
    make_staff(alpha, role="front_desk", username="desk")
    make_staff(beta, role="owner", username="boss")
    api = _api(alpha, "desk")

    # when the receipt is read on 58 mm paper in English, as a PDF, and from beta
    body = api.get(f"/api/v1/orders/{bill.pk}/receipt/?width=58&lang=en").json()
    default = api.get(f"/api/v1/orders/{bill.pk}/receipt/?width=76").json()
    pdf = api.get(f"/api/v1/orders/{bill.pk}/receipt.pdf")
    elsewhere = _api(beta, "boss").get(f"/api/v1/orders/{bill.pk}/receipt/")

    # then the figures are fen with the print lines, the salon's width is the default, and beta finds nothing
    assert (body["width"], body["language"], body["total"]) == (58, "en", 12_800)
    assert body["client"] == {"name": "王芳", "phone": "139****5678"}
    assert body["tenders"] == [
        {
            "method": "cash",
            "label": "Cash",
            "amount": 12_800,
            "tendered": 20_000,
            "change": 7_200,
            "points": 0,
            "refunded": 0,
        }
    ]
    assert body["print"]["columns"] == 32
    assert {"type": "pair", "left": "Total", "right": "¥128.00", "bold": True} in body["print"]["lines"]
    assert (default["width"], default["language"]) == (80, "zh-hans")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert elsewhere.status_code == 404


def test_receipt_is_built_in_a_fixed_number_of_queries(in_alpha):
    # given a ten-line bill of a client with loyalty entries, each line shared by two technicians
    bai, chen = staff_make("Bai", role="technician"), staff_make("Chen", role="technician")
    bill = bill_paid_make(
        lines=[LineSpec(f"Service {i}", 1_000, staff=[(bai, 5_000), (chen, 5_000)]) for i in range(10)],
        tenders=[TenderSpec(TenderMethod.CASH, 10_000)],
        client=client_make(),
        cashier=staff_make("林芳"),
    )

    # when its receipt is gathered
    with CaptureQueriesContext(connection) as captured:
        receipt = receipt_build(bill=receipt_bill(bill.pk))

    # then it took eight queries whatever the number of lines (bill, lines, shares, tenders, settings,
    # points, wallet, salon name), not counting django-tenants' SET search_path before each
    tables = [
        q["sql"].split(" FROM ")[1].split()[0] for q in captured.captured_queries if q["sql"].startswith("SELECT")
    ]
    assert tables == [
        '"pos_bill"',
        '"pos_billline"',
        '"pos_billlinestaff"',
        '"pos_tender"',
        '"pos_possettings"',
        '"loyalty_pointsentry"',
        '"loyalty_walletentry"',
        '"tenants_salon"',
    ]
    assert len(receipt.items) == 10 and receipt.items[9].staff == ["Bai", "Chen"]


# --- e-receipts -----------------------------------------------------------------------------------


def test_e_receipt_goes_out_once_when_the_bill_is_paid(in_alpha, django_capture_on_commit_callbacks):
    # given a client with a mobile phone and loyalty balances, whose bill has just been paid
    client = client_make("王芳", phone="+8613912345678")
    bill = _bill(client=client)

    # when the payment flow reports the bill paid, and the report is repeated
    with django_capture_on_commit_callbacks(execute=True):
        receipt_on_bill_paid(bill=bill)
    with django_capture_on_commit_callbacks(execute=True):
        receipt_on_bill_paid(bill=bill)

    # then one text message went out, in the salon's language, and it is logged once
    assert [(m.to, m.body) for m in sms.outbox] == [
        (
            "+8613912345678",
            "Alpha Salon电子小票：单号 20300304-0001，合计 ¥128.00，2030-03-04 10:30。谢谢惠顾，欢迎再次光临！",
        )
    ]
    assert Delivery.objects.filter(purpose="e_receipt", status="sent").count() == 1
    assert list(EReceipt.objects.values_list("trigger", "channel", "idempotency_key")) == [
        ("paid", "sms", f"bill:{bill.pk}:paid")
    ]
    # and nothing was printed: the salon does not print on payment
    assert PrintJob.objects.count() == 0


def test_paid_hook_prints_when_the_salon_prints_on_payment_and_sends_nothing_when_e_receipts_are_off(
    in_alpha, django_capture_on_commit_callbacks
):
    # given a salon that prints every receipt on payment and sends no e-receipts
    PosSettings.objects.update_or_create(pk=1, defaults={"auto_print_receipt": True, "send_e_receipt": False})
    bill = _bill(client=client_make(phone="+8613912345678"))

    # when the bill is reported paid twice
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            receipt_on_bill_paid(bill=bill)

    # then the receipt is queued once and no message went out
    assert list(PrintJob.objects.values_list("reference", "copy_number")) == [(f"bill:{bill.pk}", 0)]
    assert sms.outbox == [] and EReceipt.objects.count() == 0


def test_paid_hook_does_nothing_for_a_rolled_back_payment_or_a_walk_in(in_alpha, django_capture_on_commit_callbacks):
    # given a walk-in's paid bill
    walk_in = _bill()

    # when its payment is reported, and another payment is reported inside a transaction that rolls back
    with django_capture_on_commit_callbacks(execute=True):
        receipt_on_bill_paid(bill=walk_in)
    from django.db import transaction

    client_bill = _bill(client=client_make(phone="+8613912345678"), number="20300304-0003")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                receipt_on_bill_paid(bill=client_bill)
                raise RuntimeError("payment failed")
        except RuntimeError:
            pass

    # then nothing was sent
    assert callbacks == []
    assert sms.outbox == [] and EReceipt.objects.count() == 0


def test_wechat_followers_get_the_template_and_e_mail_clients_the_whole_receipt(
    in_alpha, django_capture_on_commit_callbacks
):
    # given a client who follows the official account and one who gave only an e-mail address
    follower = client_make("李娜", phone="+8613912340000")
    ClientBookingProfile.objects.create(client=follower, wechat_openid="o-follower")
    by_mail = client_make("Anna", phone="", email="anna@example.com")
    location = location_make("南京西路店")
    first = _bill(client=follower, location=location)
    second = _bill(client=by_mail, location=location, number="20300304-0002")

    # when both are paid
    with django_capture_on_commit_callbacks(execute=True):
        receipt_on_bill_paid(bill=first)
        receipt_on_bill_paid(bill=second)

    # then the follower gets the e-receipt template, and the e-mail carries the printed receipt
    assert [(m.openid, m.template, m.data) for m in wechat.outbox] == [
        (
            "o-follower",
            "e_receipt",
            {
                "first": "Alpha Salon电子小票",
                "keyword1": "20300304-0001",
                "keyword2": "¥128.00",
                "keyword3": "2030-03-04 10:30",
                "keyword4": "南京西路店",
                "remark": "谢谢惠顾，欢迎再次光临！",
            },
        )
    ]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["anna@example.com"]
    assert mail.outbox[0].subject == "Alpha Salon 电子小票 20300304-0002"
    assert "单号：20300304-0002" in mail.outbox[0].body and "找零" in mail.outbox[0].body
    assert sms.outbox == []


def test_staff_send_the_receipt_again_once_per_click(alpha, django_capture_on_commit_callbacks):
    # given a paid bill of a client, and a walk-in's
    with schema_context(alpha.schema):
        location = location_make("南京西路店")
        bill = _bill(client=client_make(phone="+8613912345678"), location=location)
        walk_in = _bill(location=location, number="20300304-0002")
    english_staff(alpha, role="front_desk", username="desk")
    page = logged_in_client(alpha, "desk")

    # when the cashier clicks "Send to the client" twice on one page, and on the walk-in's receipt
    with django_capture_on_commit_callbacks(execute=True):
        sent = page.post(f"/till/bills/{bill.pk}/receipt/send/", {"key": "p1-send"})
        page.post(f"/till/bills/{bill.pk}/receipt/send/", {"key": "p1-send"})
        nobody = page.post(f"/till/bills/{walk_in.pk}/receipt/send/", {"key": "p2-send"}, follow=True)

    # then one message went out, and the walk-in's page says there is nobody to send to
    assert sent.status_code == 302
    assert len(sms.outbox) == 1
    assert "This bill&#x27;s client has no WeChat, mobile phone or e-mail to send a receipt to." in (
        nobody.content.decode()
    )
    with schema_context(alpha.schema):
        assert list(EReceipt.objects.values_list("trigger", "idempotency_key")) == [("manual", "p1-send")]


def test_send_refused_without_a_recipient_or_for_an_open_bill(in_alpha):
    walk_in = _bill()
    open_bill = Bill.objects.create(number="20300304-0009", location=walk_in.location, client=client_make())
    for bill, code in ((walk_in, PosError.NO_RECIPIENT), (open_bill, PosError.RECEIPT_NOT_AVAILABLE)):
        with pytest.raises(ServiceError) as refused:
            receipt_send(bill=bill)
        assert refused.value.code == code
    assert EReceipt.objects.count() == 0 and Delivery.objects.count() == 0


def test_api_send_and_technicians_are_refused(alpha, django_capture_on_commit_callbacks):
    with schema_context(alpha.schema):
        bill = _bill(client=client_make(phone="+8613912345678"))
    make_staff(alpha, role="front_desk", username="desk")
    english_staff(alpha, role="technician", username="tech")
    with django_capture_on_commit_callbacks(execute=True):
        sent = _api(alpha, "desk").post(f"/api/v1/orders/{bill.pk}/receipt/send/", {}, content_type="application/json")
        denied = _api(alpha, "tech").post(
            f"/api/v1/orders/{bill.pk}/receipt/send/", {}, content_type="application/json"
        )
    assert sent.status_code == 202 and sent.json()["channel"] == "sms" and sent.json()["replay"] is False
    assert denied.status_code == 403
    assert len(sms.outbox) == 1
    tech_page = logged_in_client(alpha, "tech")
    for response in (
        tech_page.get(f"/till/bills/{bill.pk}/receipt/"),
        tech_page.get(f"/till/bills/{bill.pk}/receipt.pdf"),
        tech_page.post(f"/till/bills/{bill.pk}/receipt/print/"),
        tech_page.post(f"/till/bills/{bill.pk}/receipt/send/"),
    ):
        assert response.status_code == 403
    with schema_context(alpha.schema):
        assert PrintJob.objects.count() == 0 and EReceipt.objects.count() == 1


def test_receipt_print_service_queues_the_chosen_width_and_language(in_alpha):
    bill = cash_bill_make(5_000, location=location_make("静安店"))
    job = receipt_print(bill=bill, width=58, language="en")
    assert job.payload["width"] == 58
    assert "Total                     ¥50.00" in job.text
