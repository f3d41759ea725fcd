"""WeChat Pay and Alipay on the bill screen, against the fake WeChat Pay: the payment-code input and the
"Show QR" button in the pay panel, the waiting panel with its QR code (SVG drawn on the server) polled
every 2 s, and cancelling; refusals shown on the page, translated."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.models import User
from apps.loyalty.models import Wallet
from apps.payments.models import GatewayPayment
from apps.payments.testing.server import FAILURE, Scenario
from apps.pos.models import Bill, Tender
from apps.pos.tests.bills_support import till_make
from apps.pos.tests.gateway_support import CODES, connect, facial_bill, takes_gateways
from tests.fixtures import logged_in_client

TOTAL = 26820


@pytest.fixture
def setup(alpha, fake_wechat, payment_key_pairs):
    with schema_context(alpha.schema):
        till = till_make()
        takes_gateways(till)
        connect("wechat", fake_wechat, payment_key_pairs)
        bill = facial_bill(till)
    return {"alpha": alpha, "bill": bill, "fake": fake_wechat, "desk": logged_in_client(alpha, till.desk.username)}


def _post_pay(setup: dict[str, Any], **extra: str) -> Any:
    url = f"/till/bills/{setup['bill'].pk}/pay/"
    body = {"idempotency_key": "page-1", "method_1": "wechat", "amount_1": "268.20", **extra}
    return setup["desk"].post(url, body)


def test_the_pay_panel_offers_a_labelled_payment_code_input_and_a_show_qr_button(setup):
    page = setup["desk"].get(f"/till/bills/{setup['bill'].pk}/")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<label for="id_auth_code">Payment code (scan the client&#x27;s phone)</label>' in html
    assert '<button type="submit" name="show_qr" value="1">Show QR</button>' in html


def test_a_scanned_payment_code_pays_the_bill(setup):
    response = _post_pay(setup, auth_code=CODES["wechat"])

    assert response.status_code == 302
    with schema_context(setup["alpha"].schema):
        bill = Bill.objects.get(pk=setup["bill"].pk)
        tender = Tender.objects.get(bill=bill)
        assert (bill.status, bill.paid_total, tender.status) == ("paid", TOTAL, "succeeded")
    assert setup["fake"].ledger.charges(tender.out_trade_no) == 1
    page = setup["desk"].get(response["Location"])
    assert "Paid." in page.content.decode()


def test_a_refused_code_is_shown_and_the_bill_stays_due(setup):
    setup["fake"].scenario(CODES["wechat"], Scenario(kind=FAILURE, error_message="付款码已过期"))

    response = _post_pay(setup, auth_code=CODES["wechat"])

    page = setup["desk"].get(response["Location"])
    assert "The payment did not go through: 付款码已过期" in page.content.decode()
    with schema_context(setup["alpha"].schema):
        assert Bill.objects.get(pk=setup["bill"].pk).paid_total == 0


def test_an_invalid_code_is_shown_on_the_form_and_nothing_changes(setup):
    response = _post_pay(setup, auth_code="12345")

    assert response.status_code == 400
    assert "This is not a valid payment code: scan it again." in response.content.decode()
    with schema_context(setup["alpha"].schema):
        assert not Tender.objects.filter(bill=setup["bill"]).exists()
    assert setup["fake"].ledger.calls == []


def test_show_qr_draws_the_code_polls_and_can_be_cancelled(setup):
    response = _post_pay(setup, show_qr="1")

    page = setup["desk"].get(response["Location"]).content.decode()
    with schema_context(setup["alpha"].schema):
        tender = Tender.objects.get(bill=setup["bill"])
    status_url = f"/till/bills/{setup['bill'].pk}/gateway/{tender.pk}/"
    assert "<svg" in page and "QR code to pay" in page
    assert f'hx-get="{status_url}" hx-trigger="every 2s"' in page
    assert "Waiting for the client to pay ¥268.20 by WeChat Pay" in page
    assert setup["desk"].get(status_url).status_code == 200

    cancelled = setup["desk"].post(f"{status_url}cancel/")

    assert cancelled.status_code == 302
    with schema_context(setup["alpha"].schema):
        tender.refresh_from_db()
        assert tender.status == "failed"
    done = setup["desk"].get(status_url)
    assert (done.status_code, done["HX-Redirect"]) == (204, f"/till/bills/{setup['bill'].pk}/")
    after = setup["desk"].get(cancelled["Location"]).content.decode()
    assert "The WeChat Pay / Alipay payment is cancelled." in after
    assert 'name="show_qr"' in after


def test_the_waiting_page_asks_the_gateway_when_no_notice_comes(setup):
    # given a QR order the client has paid, whose notice never arrives
    response = _post_pay(setup, show_qr="1")
    assert response.status_code == 302
    with schema_context(setup["alpha"].schema):
        tender = Tender.objects.get(bill=setup["bill"])
    status_url = f"/till/bills/{setup['bill'].pk}/gateway/{tender.pk}/"
    setup["fake"].pay_qr(tender.out_trade_no)
    calls = list(setup["fake"].ledger.calls)
    # when the page polls within 5 s of sending the order: the gateway is not asked, the page keeps waiting
    assert setup["desk"].get(status_url).status_code == 200
    assert setup["fake"].ledger.calls == calls
    # when it polls later: the gateway is asked, the bill is paid and the page reloads
    with schema_context(setup["alpha"].schema):
        GatewayPayment.objects.filter(out_trade_no=tender.out_trade_no).update(
            created_at=timezone.now() - datetime.timedelta(seconds=6)
        )
    done = setup["desk"].get(status_url)
    assert (done.status_code, done["HX-Redirect"]) == (204, f"/till/bills/{setup['bill'].pk}/")
    with schema_context(setup["alpha"].schema):
        tender.refresh_from_db()
        assert tender.status == "succeeded"
        assert Bill.objects.get(pk=setup["bill"].pk).status == "paid"
    assert setup["fake"].ledger.charges(tender.out_trade_no) == 1
    assert [call for call in setup["fake"].ledger.calls if call not in calls] != []  # it was asked


def test_a_payment_stopped_half_way_is_given_back_by_voiding_the_bill_on_its_page(setup):
    # given stored value taken, then the client's code refused
    setup["fake"].scenario(CODES["wechat"], Scenario(kind=FAILURE, error_message="付款码已过期"))
    _post_pay(
        setup,
        method_1="stored_value",
        amount_1="200.00",
        method_2="wechat",
        amount_2="68.20",
        auth_code=CODES["wechat"],
    )
    with schema_context(setup["alpha"].schema):
        bill = Bill.objects.select_related("client").get(pk=setup["bill"].pk)
        assert (bill.status, bill.paid_total) == ("open", 20000)
        manager = User.objects.get(role="manager")
    boss = logged_in_client(setup["alpha"], manager.username)
    url = f"/till/bills/{bill.pk}/"
    # when the manager opens the bill: the void form says what it gives back
    page = boss.get(url).content.decode()
    assert "¥200.00 was paid on this bill so far: voiding it gives each payment back" in page
    # and voids it
    response = boss.post(f"{url}void/", {"reason": "client left"})
    # then
    assert (response.status_code, response["Location"]) == (302, url)
    assert "The bill was voided." in boss.get(url).content.decode()
    with schema_context(setup["alpha"].schema):
        bill.refresh_from_db()
        wallet = Wallet.objects.get(client=bill.client)
        assert (bill.status, bill.refunded_total) == ("voided", 20000)
        assert wallet.principal + wallet.bonus == 120_000


def _refund_refused_by_the_gateway(setup, capture) -> Any:
    """The paid bill refunded ¥50 by its manager, the gateway refusing the WeChat Pay part."""
    from apps.pos.models import RefundTender
    from apps.pos.services.refunds import bill_refund

    _post_pay(setup, auth_code=CODES["wechat"])
    with schema_context(setup["alpha"].schema):
        manager = User.objects.get(role="manager")
        bill = Bill.objects.get(pk=setup["bill"].pk)
        with capture(execute=False) as callbacks:
            refund = bill_refund(
                bill=bill, reason="towel burn", idempotency_key="r-1", acting_user=manager, amount=5000
            )
        part = RefundTender.objects.get(refund=refund)
        setup["fake"].scenario(part.out_refund_no, Scenario(kind=FAILURE, error_message="商户余额不足"))
        for callback in callbacks:
            callback()
        part.refresh_from_db()
        assert part.status == "failed"
    return part, logged_in_client(setup["alpha"], manager.username)


def test_a_refund_the_gateway_refused_is_shown_and_sent_again_from_the_bill_page(
    setup, django_capture_on_commit_callbacks
):
    # given
    part, boss = _refund_refused_by_the_gateway(setup, django_capture_on_commit_callbacks)
    url = f"/till/bills/{setup['bill'].pk}/"
    # when the manager opens the bill
    page = boss.get(url).content.decode()
    # then the refused part says why and offers both ways to settle it
    assert "Refused by the gateway: 商户余额不足" in page
    assert f'action="{url}refund-parts/{part.pk}/resend/"' in page
    assert f'action="{url}refund-parts/{part.pk}/cash/"' in page
    # when it is sent again
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = boss.post(f"{url}refund-parts/{part.pk}/resend/")
    with schema_context(setup["alpha"].schema):  # as they run at the request's commit, in its salon
        for callback in callbacks:
            callback()
    # then
    assert (response.status_code, response["Location"]) == (302, url)
    page = boss.get(url).content.decode()
    assert "The refund was sent to the gateway again." in page
    assert "Refused by the gateway" not in page
    with schema_context(setup["alpha"].schema):
        part.refresh_from_db()
        assert (part.status, part.attempts) == ("succeeded", 2)
        assert setup["fake"].ledger.given_back(part.tender.out_trade_no) == 5000
    # the front desk may not settle refunds
    assert setup["desk"].post(f"{url}refund-parts/{part.pk}/cash/").status_code == 403


def test_giving_a_refused_refund_back_in_cash_needs_an_open_drawer(setup, django_capture_on_commit_callbacks):
    from apps.pos.services.cash import cash_session_open

    part, boss = _refund_refused_by_the_gateway(setup, django_capture_on_commit_callbacks)
    url = f"/till/bills/{setup['bill'].pk}/"

    refused = boss.post(f"{url}refund-parts/{part.pk}/cash/")

    assert (
        "Open a cash session at this location before giving cash back."
        in boss.get(refused["Location"]).content.decode()
    )
    with schema_context(setup["alpha"].schema):
        part.refresh_from_db()
        assert part.given_in_cash_at is None
        cash_session_open(
            location=part.tender.bill.location, opening_float=20_000, acting_user=User.objects.get(role="manager")
        )
    given = boss.post(f"{url}refund-parts/{part.pk}/cash/")
    page = boss.get(given["Location"]).content.decode()
    assert "Recorded: the refund was given back in cash out of the drawer." in page
    assert "Refused by the gateway; given back in cash" in page
    with schema_context(setup["alpha"].schema):
        part.refresh_from_db()
        assert (part.status, part.given_in_cash_at is not None) == ("failed", True)
