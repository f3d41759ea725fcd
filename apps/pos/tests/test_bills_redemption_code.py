"""The client's one-time code at the till (LOY-8), with a real code texted to the client's phone: the salon
requires one before stored value is taken; the till asks for it (the API's ``redemption-code`` endpoint,
the bill page's "Send code to client" button), a wrong code is refused with nothing paid, the right one
pays, a manager may skip it with a reason (audited), and a front desk may not. Through
``POST /api/v1/orders/{id}/pay/`` and through the bill page's payment form."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.core.models import AuditEntry
from apps.loyalty.models import WalletEntry
from apps.loyalty.services.settings import loyalty_settings_update
from apps.messaging import sms
from apps.pos.models import Bill, Tender
from apps.pos.services import bills as services
from apps.pos.tests.bills_support import api_client, member_bill, till_make, wallet_of
from tests.fixtures import logged_in_client

SHAMPOO = 9800
CODE_REQUIRED = "Enter the code sent to the client's phone."
CODE_WRONG = "This code is wrong or has expired; send a new one."
NOT_ALLOWED = "You do not have permission to do this."
SKIP_LABEL = "Or skip the code (manager), because"


@pytest.fixture
def setup(alpha):
    sms.outbox.clear()
    with schema_context(alpha.schema):
        till = till_make()
        loyalty_settings_update(acting_user=None, require_redemption_code=True)
    return {"till": till, "alpha": alpha}


def _shampoo_bill(s: dict[str, Any]) -> Bill:
    with schema_context(s["alpha"].schema):
        bill = member_bill(s["till"])
        services.bill_line_add(bill=bill, item=s["till"].shampoo, acting_user=s["till"].desk)
        bill.refresh_from_db()
        assert bill.total == SHAMPOO
        return bill


def _texted_code(phone: str) -> str:
    """The code in the one text the client's phone received."""
    assert [m.to for m in sms.outbox] == [phone]
    found = re.search(r"\b(\d{6})\b", sms.outbox[0].body)
    assert found is not None, sms.outbox[0].body
    return found.group(1)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _wallet(s: dict[str, Any]) -> tuple[int, int, int]:
    with schema_context(s["alpha"].schema):
        wallet = wallet_of(s["till"].member)
        return (wallet.principal, wallet.bonus, wallet.points)


def _nothing_paid(s: dict[str, Any], bill: Bill, wallet: tuple[int, int, int] = (100_000, 20_000, 500)) -> None:
    with schema_context(s["alpha"].schema):
        row = Bill.objects.get(pk=bill.pk)
        assert (row.status, row.paid_total) == ("open", 0)
        assert not Tender.objects.filter(bill=bill).exists()
        assert not WalletEntry.objects.filter(reference=f"bill:{bill.pk}").exists()
    assert _wallet(s) == wallet


def _paid_by_stored_value(s: dict[str, Any], bill: Bill) -> None:
    with schema_context(s["alpha"].schema):
        row = Bill.objects.get(pk=bill.pk)
        assert (row.status, row.paid_total) == ("paid", SHAMPOO)
        assert list(Tender.objects.filter(bill=bill).values_list("method", "amount", "status")) == [
            ("stored_value", SHAMPOO, "succeeded")
        ]
        assert [e.amount for e in WalletEntry.objects.filter(reference=f"bill:{bill.pk}")] == [-SHAMPOO]
    # ¥98 in proportion (¥81.67 principal, ¥16.33 bonus); 147 points earned on it (×1.5 for gold)
    assert _wallet(s) == (91_833, 18_367, 647)


def _overrides(s: dict[str, Any]) -> list[tuple[int | None, str, dict[str, Any]]]:
    with schema_context(s["alpha"].schema):
        return [
            (e.actor_id, e.target_id, e.data)
            for e in AuditEntry.objects.filter(action="loyalty.redemption_code_overridden").order_by("id")
        ]


# --- the API --------------------------------------------------------------------------------------------


def test_the_api_takes_stored_value_with_the_code_texted_to_the_client(setup, django_capture_on_commit_callbacks):
    t = setup["till"]
    desk = api_client(setup["alpha"], t.desk)
    bill = _shampoo_bill(setup)
    url = f"/api/v1/orders/{bill.pk}/pay/"

    def pay(payment: dict[str, Any], key: str) -> Any:
        body = {"payments": [{"method": "stored_value", "amount": SHAMPOO, **payment}]}
        return desk.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)

    # when the front desk takes stored value without a code, it is asked for one and nothing is paid
    asked = pay({}, "no-code")
    assert (asked.status_code, asked.json()) == (400, {"code": [CODE_REQUIRED]})
    _nothing_paid(setup, bill)

    # when the till asks for a code, the client's phone gets it
    with django_capture_on_commit_callbacks(execute=True):
        sent = desk.post(f"/api/v1/clients/{t.member.pk}/redemption-code/")
    assert (sent.status_code, sent.json()) == (
        202,
        {"detail": "A code was sent to the client's phone.", "expires_in": 300},
    )
    code = _texted_code(t.member.phone)

    # a wrong code is refused, clearly, and nothing is paid
    wrong = pay({"code": _wrong(code)}, "wrong-code")
    assert (wrong.status_code, wrong.json()) == (400, {"code": [CODE_WRONG]})
    _nothing_paid(setup, bill)

    # the right code pays
    paid = pay({"code": code}, "right-code")
    assert paid.status_code == 200, paid.content
    assert (paid.json()["status"], paid.json()["paid_total"], paid.json()["due"]) == ("paid", SHAMPOO, 0)
    _paid_by_stored_value(setup, bill)

    # and the code works once: another bill cannot be paid with it
    other = _shampoo_bill(setup)
    after_first = _wallet(setup)
    reused = desk.post(
        f"/api/v1/orders/{other.pk}/pay/",
        {"payments": [{"method": "stored_value", "amount": SHAMPOO, "code": code}]},
        content_type="application/json",
    )
    assert (reused.status_code, reused.json()) == (400, {"code": [CODE_WRONG]})
    _nothing_paid(setup, other, after_first)
    assert _overrides(setup) == []


def test_the_api_replays_a_payment_made_with_a_code_without_asking_for_it_again(
    setup, django_capture_on_commit_callbacks
):
    t = setup["till"]
    desk = api_client(setup["alpha"], t.desk)
    bill = _shampoo_bill(setup)
    with django_capture_on_commit_callbacks(execute=True):
        assert desk.post(f"/api/v1/clients/{t.member.pk}/redemption-code/").status_code == 202
    code = _texted_code(t.member.phone)
    body = {"payments": [{"method": "stored_value", "amount": SHAMPOO, "code": code}]}
    url = f"/api/v1/orders/{bill.pk}/pay/"

    # when the till's request is sent again with its key (the answer was lost), the code now used up
    first = desk.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="tablet-1")
    again = desk.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="tablet-1")

    # then the first payment is answered again and nothing more is taken
    assert first.status_code == 200, first.content
    assert again.status_code == 200, again.content
    assert again.json()["tenders"] == first.json()["tenders"]
    _paid_by_stored_value(setup, bill)


def test_the_api_lets_a_manager_skip_the_code_with_a_reason_audited_but_not_a_front_desk(setup):
    t = setup["till"]
    bill = _shampoo_bill(setup)
    url = f"/api/v1/orders/{bill.pk}/pay/"
    skip = {"payments": [{"method": "stored_value", "amount": SHAMPOO, "override_reason": "客户手机没电"}]}

    # when the front desk skips the code, it is refused: only a manager may, and nothing is paid
    refused = api_client(setup["alpha"], t.desk).post(url, skip, content_type="application/json")
    assert (refused.status_code, refused.json()) == (403, {"detail": NOT_ALLOWED, "code": "permission_denied"})
    _nothing_paid(setup, bill)
    # a blank reason is no reason
    blank = {"payments": [{"method": "stored_value", "amount": SHAMPOO, "override_reason": "  "}]}
    asked = api_client(setup["alpha"], t.manager).post(url, blank, content_type="application/json")
    assert (asked.status_code, asked.json()) == (400, {"code": [CODE_REQUIRED]})
    _nothing_paid(setup, bill)
    assert _overrides(setup) == []

    # when the manager skips it with a reason, the bill is paid and the override is in the audit log
    done = api_client(setup["alpha"], t.manager).post(url, skip, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "paid"
    _paid_by_stored_value(setup, bill)
    assert _overrides(setup) == [
        (
            t.manager.pk,
            str(t.member.pk),
            {"what": "stored_value", "reference": f"bill:{bill.pk}", "reason": "客户手机没电"},
        )
    ]
    assert sms.outbox == []


# --- the bill page --------------------------------------------------------------------------------------


def test_the_bill_page_sends_the_code_and_takes_stored_value_with_it(setup, django_capture_on_commit_callbacks):
    t = setup["till"]
    desk = logged_in_client(setup["alpha"], t.desk.username)
    bill = _shampoo_bill(setup)
    url = f"/till/bills/{bill.pk}/"
    typed = {"method_1": "stored_value", "amount_1": "98.00"}

    # given the bill page: a code field per payment and the button that texts the client, no skipping
    page = desk.get(url).content.decode()
    assert "Client&#x27;s code" in page and "Send code to client" in page
    assert f'formaction="{url}pay/code/"' in page
    assert SKIP_LABEL not in page

    # when the front desk takes stored value without the code, it is asked for one and nothing is paid
    asked = desk.post(f"{url}pay/", typed)
    assert asked.status_code == 400
    assert "Enter the code sent to the client&#x27;s phone." in asked.content.decode()
    _nothing_paid(setup, bill)

    # when it presses "Send code to client", the phone gets the code and the payment comes back as typed
    with django_capture_on_commit_callbacks(execute=True):
        sent = desk.post(f"{url}pay/code/", typed)
    assert sent.status_code == 200
    html = sent.content.decode()
    assert "A code was sent to the client&#x27;s phone. Ask them for it." in html
    assert 'name="amount_1" value="98.00"' in html
    assert '<option value="stored_value" selected>' in html
    code = _texted_code(t.member.phone)

    # a wrong code is refused on the form, and nothing is paid
    wrong = desk.post(f"{url}pay/", {**typed, "code_1": _wrong(code)})
    assert wrong.status_code == 400
    assert "This code is wrong or has expired; send a new one." in wrong.content.decode()
    _nothing_paid(setup, bill)

    # the right code pays
    paid = desk.post(f"{url}pay/", {**typed, "code_1": code, "idempotency_key": "page-1"})
    assert (paid.status_code, paid["Location"]) == (302, url)
    _paid_by_stored_value(setup, bill)
    # and a second click of the same form (its key, the code used up) changes nothing
    twice = desk.post(f"{url}pay/", {**typed, "code_1": code, "idempotency_key": "page-1"})
    assert (twice.status_code, twice["Location"]) == (302, url)
    _paid_by_stored_value(setup, bill)
    assert _overrides(setup) == []


def test_the_bill_page_lets_a_manager_skip_the_code_with_a_reason_audited_but_not_a_front_desk(setup):
    t = setup["till"]
    desk = logged_in_client(setup["alpha"], t.desk.username)
    boss = logged_in_client(setup["alpha"], t.manager.username)
    bill = _shampoo_bill(setup)
    url = f"/till/bills/{bill.pk}/"
    skip = {"method_1": "stored_value", "amount_1": "98.00", "override_reason_1": "客户手机没电"}

    # when a front desk sends a reason to skip the code (a field its page does not show), it is refused
    refused = desk.post(f"{url}pay/", skip)
    assert refused.status_code == 400
    assert NOT_ALLOWED in refused.content.decode()
    _nothing_paid(setup, bill)

    # the manager's page offers the reason; with it the bill is paid and the override audited
    assert SKIP_LABEL in boss.get(url).content.decode()
    done = boss.post(f"{url}pay/", skip)
    assert (done.status_code, done["Location"]) == (302, url)
    _paid_by_stored_value(setup, bill)
    assert _overrides(setup) == [
        (
            t.manager.pk,
            str(t.member.pk),
            {"what": "stored_value", "reference": f"bill:{bill.pk}", "reason": "客户手机没电"},
        )
    ]
    assert sms.outbox == []


def test_a_salon_that_asks_for_no_code_shows_no_button_and_no_reason(setup):
    with schema_context(setup["alpha"].schema):
        loyalty_settings_update(acting_user=None, require_redemption_code=False)
    bill = _shampoo_bill(setup)

    page = logged_in_client(setup["alpha"], setup["till"].manager.username).get(f"/till/bills/{bill.pk}/")

    html = page.content.decode()
    assert "Send code to client" not in html and SKIP_LABEL not in html
