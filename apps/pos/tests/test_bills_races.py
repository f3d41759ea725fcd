"""The till under concurrency: real threads, committed transactions, in a salon made for the race and
removed afterwards. Two cashiers paying one bill pay it once; two tills checking out one visit get one
bill; bills opened at the same moment get distinct numbers."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.loyalty.models import PointsEntry, WalletEntry
from apps.pos.errors import PosError
from apps.pos.models import Bill, Tender
from apps.pos.services import bills as services
from apps.pos.services.checkout import Payment, bill_pay
from apps.pos.tests.bills_support import cash, member_bill, one, stored_value, till_make, wallet_of
from apps.scheduling.models import AppointmentStatus
from apps.scheduling.tests.support import appointment_insert
from tests.races import race, salon_for_races

SUBDOMAIN = "till-race"


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races(SUBDOMAIN) as schema:
        yield schema


def test_two_cashiers_paying_one_bill_at_once_pay_it_once(race_salon):
    # given a member's bill of ¥298 (¥268.20 for gold)
    with schema_context(race_salon):
        till = till_make()
        bill = member_bill(till)
        services.bill_line_add(bill=bill, item=till.facial, staff=one(till.li), acting_user=till.desk)
        bill.refresh_from_db()
        desks = [till.desk, till.manager]

    # when two cashiers pay it at the same moment, each with their own request
    def work(i: int) -> Any:
        return bill_pay(
            bill=bill, tenders=[cash(6820), stored_value(20000)], idempotency_key=f"till-{i}", acting_user=desks[i]
        )

    outcomes = race(race_salon, 2, work)

    # then one payment went through and the other was told the bill is paid
    paid = [o for o in outcomes if isinstance(o, Payment)]
    refused = [o for o in outcomes if not isinstance(o, Payment)]
    assert len(paid) == 1, outcomes
    assert len(refused) == 1 and isinstance(refused[0], ServiceError), outcomes
    assert (refused[0].code, refused[0].status) == (PosError.BILL_ALREADY_PAID, 409)
    with schema_context(race_salon):
        assert Tender.objects.filter(bill=bill).count() == 2
        assert Bill.objects.get(pk=bill.pk).paid_total == 26820
        assert WalletEntry.objects.filter(reference=f"bill:{bill.pk}").count() == 1
        assert PointsEntry.objects.filter(reference=f"bill:{bill.pk}", kind="earn_spend").count() == 1
        wallet = wallet_of(till.member)
        assert wallet.principal + wallet.bonus == 120_000 - 20000


def test_the_same_payment_sent_twice_at_once_is_taken_once(race_salon):
    with schema_context(race_salon):
        till = till_make()
        bill = member_bill(till)
        services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
        bill.refresh_from_db()

    def work(_i: int) -> Any:
        return bill_pay(bill=bill, tenders=[stored_value(9800)], idempotency_key="tablet-retry", acting_user=till.desk)

    outcomes = race(race_salon, 2, work)

    assert all(isinstance(o, Payment) for o in outcomes), outcomes
    assert sorted(o.is_replay for o in outcomes) == [False, True]
    assert {o.tenders[0].pk for o in outcomes} == {outcomes[0].tenders[0].pk}
    with schema_context(race_salon):
        assert WalletEntry.objects.filter(reference=f"bill:{bill.pk}").count() == 1


def test_two_tills_checking_out_one_visit_get_one_bill(race_salon):
    with schema_context(race_salon):
        till = till_make()
        visit = appointment_insert(
            client=till.member,
            start=datetime.datetime(2030, 3, 4, 2, 0, tzinfo=datetime.UTC),
            lines=[(till.cut, till.li)],
            status=AppointmentStatus.DONE,
        )

    outcomes = race(
        race_salon, 4, lambda i: services.bill_open(location=None, appointment=visit, acting_user=till.desk)
    )

    assert all(isinstance(o, Bill) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    with schema_context(race_salon):
        assert Bill.objects.filter(appointment=visit).count() == 1


def test_bills_opened_at_once_get_distinct_numbers(race_salon):
    with schema_context(race_salon):
        till = till_make()

    outcomes = race(race_salon, 8, lambda i: services.bill_open(location=till.location, acting_user=till.desk))

    assert all(isinstance(o, Bill) for o in outcomes), outcomes
    numbers = sorted(o.number.split("-")[1] for o in outcomes)
    assert numbers == [f"{n:04d}" for n in range(1, 9)]


def test_a_cash_payment_that_waited_for_the_lock_sees_a_gateway_tender_committed_meanwhile(race_salon):
    # given a walk-in's bill of ¥298 at a salon that takes WeChat Pay
    import threading
    import time

    from django.db import connections, transaction
    from django.utils import translation

    from apps.pos.models import TenderStatus
    from apps.pos.services.till_settings import pos_settings_update
    from apps.pos.tests.bills_support import walk_in_bill

    with schema_context(race_salon):
        till = till_make()
        pos_settings_update(acting_user=till.owner, accepts_wechat=True)
        bill = walk_in_bill(till)
        services.bill_line_add(bill=bill, item=till.facial, staff=one(till.li), acting_user=till.desk)
        bill.refresh_from_db()
    locked, released = threading.Event(), threading.Event()

    def gateway_step_one() -> None:
        # what a WeChat payment's first step does: under the bill's lock, write its tender pending, commit
        try:
            with schema_context(race_salon), transaction.atomic():
                Bill.objects.select_for_update().get(pk=bill.pk)
                locked.set()
                released.wait(10)
                Tender.objects.create(
                    bill_id=bill.pk,
                    method="wechat",
                    amount=bill.total,
                    status=TenderStatus.PENDING,
                    out_trade_no="race-wx-1",
                    idempotency_key=f"{bill.pk}:race:wx",
                )
        finally:
            connections.close_all()

    outcome: list[Any] = []

    def cash_payment() -> None:
        try:
            with schema_context(race_salon), translation.override("en"):
                outcome.append(
                    bill_pay(bill=bill, tenders=[cash(bill.total)], idempotency_key="cash-1", acting_user=till.desk)
                )
        except Exception as exc:  # asserted below
            outcome.append(exc)
        finally:
            connections.close_all()

    # when the cash payment starts while the gateway holds the lock, and the gateway commits its tender
    gateway = threading.Thread(target=gateway_step_one)
    gateway.start()
    assert locked.wait(10)
    payer = threading.Thread(target=cash_payment)
    payer.start()
    time.sleep(0.5)  # the cash payment is now waiting for the bill's lock
    released.set()
    gateway.join(10)
    payer.join(10)

    # then the cash payment saw the pending WeChat tender and was refused; the bill is not paid twice
    assert len(outcome) == 1 and isinstance(outcome[0], ServiceError), outcome
    with schema_context(race_salon):
        assert Bill.objects.get(pk=bill.pk).paid_total == 0
        assert not Tender.objects.filter(bill=bill, method="cash").exists()
