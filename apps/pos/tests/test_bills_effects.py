"""What a paid or refunded bill sets off (apps/pos/receivers.py): commission per staff share, stock of the
products sold, and the receipt work after commit; and the reverse on a refund. A refusal below (no stock)
rolls the whole payment back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from apps.core.errors import ServiceError
from apps.inventory.errors import InventoryError
from apps.inventory.models import StockLevel
from apps.loyalty.models import WalletEntry
from apps.pos.models import CommissionEntry, CommissionMethod, CommissionScope, Tender
from apps.pos.services import bills as services
from apps.pos.services.commission import commission_rule_create
from apps.pos.services.refunds import RefundLineRequest, bill_refund
from apps.pos.tests.bills_support import cash, member_bill, one, pay, stored_value, till_make, wallet_of


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def till(in_alpha, beta):
    till = till_make()
    commission_rule_create(
        scope=CommissionScope.DEFAULT, method=CommissionMethod.PERCENTAGE, rate_bp=1000, acting_user=None
    )
    return till


def _on_hand(till) -> int:
    return int(StockLevel.objects.get(location=till.location, product=till.shampoo).quantity)


def _bill(till):
    # a facial by Li (¥268.20 for gold) and two shampoos sold by Wang (¥196)
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, staff=one(till.li), acting_user=till.desk)
    services.bill_line_add(bill=bill, item=till.shampoo, quantity=2, staff=one(till.wang), acting_user=till.desk)
    bill.refresh_from_db()
    return bill


def test_a_paid_bill_records_commission_takes_stock_and_queues_the_receipt(till, django_capture_on_commit_callbacks):
    # given 100 shampoos on the shelf and a salon-wide 10 % commission
    bill = _bill(till)
    assert _on_hand(till) == 100
    # when the bill is paid in cash and stored value
    with django_capture_on_commit_callbacks() as callbacks:
        pay(bill, cash(20000), stored_value(bill.total - 20000), by=till.desk)
    # then each share earned 10 % of its line, the shampoos left the shelf, and the receipt work is queued
    earned = sorted(CommissionEntry.objects.filter(bill=bill).values_list("staff_id", "basis", "amount"))
    assert earned == sorted([(till.li.pk, 26820, 2682), (till.wang.pk, 19600, 1960)])
    assert _on_hand(till) == 98
    queued = [getattr(callback, "__qualname__", "") for callback in callbacks]
    assert queued.count("receipt_on_bill_paid.<locals>.queue") == 1


def test_a_refund_gives_back_commission_and_stock(till):
    # given the paid bill
    bill = _bill(till)
    pay(bill, cash(bill.total, tendered=bill.total), by=till.desk)
    shampoo = bill.lines.get(product=till.shampoo)
    # when one shampoo is refunded
    bill_refund(
        bill=bill,
        reason="damaged",
        idempotency_key="r-1",
        acting_user=till.manager,
        lines=[RefundLineRequest(shampoo, 1)],
    )
    # then Wang's commission on it is half reversed and one shampoo is back on the shelf
    wang = CommissionEntry.objects.filter(bill=bill, staff=till.wang)
    assert sorted(wang.values_list("kind", "amount")) == sorted([("earned", 1960), ("reversed", -980)])
    assert _on_hand(till) == 99


def test_a_product_out_of_stock_refuses_the_payment_with_nothing_written(till):
    # given only one shampoo left for a bill of two, and the salon forbids negative stock (the default)
    from apps.inventory.tests.helpers import stock_in

    stock_in(till.location, till.shampoo, -99)
    bill = _bill(till)
    wallet = wallet_of(till.member)
    # when it is paid, then it is refused, naming the product
    with pytest.raises(ServiceError) as refused:
        pay(bill, cash(20000), stored_value(bill.total - 20000), by=till.desk)
    assert refused.value.code == InventoryError.INSUFFICIENT_STOCK
    # and nothing happened: the bill is open, no tender, no commission, the wallet and the shelf as they were
    bill.refresh_from_db()
    assert (bill.status, bill.paid_total) == ("open", 0)
    assert not Tender.objects.filter(bill=bill).exists()
    assert not CommissionEntry.objects.filter(bill=bill).exists()
    assert not WalletEntry.objects.filter(reference=f"bill:{bill.pk}").exists()
    assert wallet_of(till.member).principal == wallet.principal
    assert _on_hand(till) == 1
