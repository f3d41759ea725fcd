"""Cash sessions (POS-5, 收银交班): the expected cash is exact — float + cash taken − cash refunded +
pay-ins − pay-outs, only payments at the session's location while it was open — the other tenders are
summed for the handover, one session is open per location also under concurrency, and bad input
writes nothing."""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry, Location
from apps.edge.models import PrintJob
from apps.pos.errors import PosError
from apps.pos.models import (
    CashMovement,
    CashSession,
    CashSessionTally,
    PosSettings,
    Tender,
    TenderMethod,
)
from apps.pos.selectors.cash import cash_session_figures, handover_report
from apps.pos.services.cash import (
    cash_movement_record,
    cash_session_close,
    cash_session_open,
    cash_session_require_open,
)
from apps.pos.tests.factories_receipts import (
    LineSpec,
    TenderSpec,
    bill_paid_make,
    cash_bill_make,
    english,  # noqa: F401  (fixture, used by pytestmark)
    location_make,
    refund_make,
    staff_make,
)
from tests.races import race, salon_for_races

pytestmark = pytest.mark.usefixtures("english")

HOUR = datetime.timedelta(hours=1)


def _open(location: Location, cashier: Any, opening_float: int = 50_000, *, hours_ago: float = 2) -> CashSession:
    """A session opened ``hours_ago`` (so the test's payments fall inside it)."""
    session = cash_session_open(location=location, opening_float=opening_float, acting_user=cashier)
    CashSession.objects.filter(pk=session.pk).update(opened_at=timezone.now() - hours_ago * HOUR)
    session.refresh_from_db()
    return session


def _day(location: Location, cashier: Any) -> CashSession:
    """A session with cash and other payments, refunds, a pay-in and a pay-out, and payments around it that
    do not belong to it."""
    other = location_make("静安店")
    now = timezone.now()
    cash_bill_make(9_999, location=location, paid_at=now - 3 * HOUR)  # before the session opened
    session = _open(location, cashier)
    during = now - HOUR
    cash_bill_make(12_800, tendered=20_000, location=location, paid_at=during)
    refunded = cash_bill_make(5_000, location=location, paid_at=during)
    wechat = bill_paid_make(
        lines=[LineSpec("Colour", 30_000)],
        tenders=[TenderSpec(TenderMethod.WECHAT, 30_000)],
        location=location,
        paid_at=during,
    )
    bill_paid_make(
        lines=[LineSpec("Treatment", 10_000)],
        tenders=[TenderSpec(TenderMethod.CASH, 2_000), TenderSpec(TenderMethod.STORED_VALUE, 8_000)],
        location=location,
        paid_at=during,
    )
    cash_bill_make(7_000, location=other, paid_at=during)  # another location's drawer
    refund_make(bill=refunded, tender=refunded.tenders.get(), amount=3_000, at=now - HOUR / 2)
    refund_make(bill=wechat, tender=wechat.tenders.get(), amount=10_000, at=now - HOUR / 2)
    cash_movement_record(
        session=session, kind="pay_in", amount=10_000, reason="Change from the bank", acting_user=cashier
    )
    cash_movement_record(session=session, kind="pay_out", amount=4_500, reason="Towels", acting_user=cashier)
    return session


def test_expected_cash_is_float_plus_cash_taken_less_refunds_plus_pay_ins_less_pay_outs(in_alpha):
    # given a day at the drawer
    location, cashier = location_make("南京西路店"), staff_make("林芳")
    session = _day(location, cashier)

    # when its figures are read while it is open
    figures = cash_session_figures(session)

    # then 500 + (128 + 50 + 20) − 30 + 100 − 45 = 723 yuan are expected in the drawer
    assert (figures.cash.count, figures.cash.taken, figures.cash.refunded) == (3, 19_800, 3_000)
    assert (figures.pay_ins, figures.pay_outs) == (10_000, 4_500)
    assert figures.expected_cash == 72_300
    assert [(t.method, t.count, t.taken, t.refunded, t.expected) for t in figures.others] == [
        ("wechat", 1, 30_000, 10_000, 20_000),
        ("stored_value", 1, 8_000, 0, 8_000),
    ]
    assert figures.takings == 16_800 + 20_000 + 8_000
    assert (figures.bills_count, figures.bills_total) == (4, 57_800)


def test_closing_keeps_expected_counted_and_difference_per_tender(in_alpha):
    # given the same day
    location, cashier = location_make("南京西路店"), staff_make("林芳")
    session = _day(location, cashier)
    manager = staff_make("Manager Wu", role="manager")

    # when the manager closes it with 720 yuan counted and the WeChat statement showing 200 yuan
    closed = cash_session_close(
        session=session, counted_cash=72_000, counted={"wechat": 20_000}, note="3 yuan short", acting_user=manager
    )

    # then the drawer is 3 yuan short, WeChat balances, stored value was not counted
    assert (closed.status, closed.expected_cash, closed.counted_cash, closed.cash_difference) == (
        "closed",
        72_300,
        72_000,
        -300,
    )
    assert closed.closed_by == manager and closed.closing_note == "3 yuan short"
    assert list(
        CashSessionTally.objects.filter(session=closed)
        .order_by("id")
        .values_list("method", "count", "taken", "refunded", "expected", "counted", "difference")
    ) == [
        ("cash", 3, 19_800, 3_000, 72_300, 72_000, -300),
        ("wechat", 1, 30_000, 10_000, 20_000, 20_000, 0),
        ("stored_value", 1, 8_000, 0, 8_000, None, None),
    ]
    assert AuditEntry.objects.filter(action="pos.cash_session_close", target_id=str(closed.pk)).count() == 1

    # and the handover report is queued for the printer, with the figures as kept
    job = PrintJob.objects.get(kind="handover_report")
    assert job.reference == f"cash_session:{closed.pk}"
    lines = job.text.splitlines()
    for expected in (
        "备用金                                   ¥500.00",
        "现金收款 (3笔)                           ¥198.00",
        "现金退款                                 -¥30.00",
        "存入现金                                 ¥100.00",
        "取出现金                                 -¥45.00",
        "应有现金                                 ¥723.00",
        "实点现金                                 ¥720.00",
        "差额                                      -¥3.00",
        "微信支付 (1笔)                           ¥200.00",
        "储值卡 (1笔)                              ¥80.00",
        "营业收款                                 ¥448.00",
        "结账单数                                       4",
    ):
        assert expected in lines, expected

    # and a payment after the close does not change the past handover
    cash_bill_make(1_000, location=location)
    report = handover_report(CashSession.objects.get(pk=closed.pk))
    assert report.expected_cash == 72_300 and report.figures.cash.taken == 19_800


def test_a_pay_out_cannot_take_more_than_the_drawer_holds(in_alpha):
    location, cashier = location_make("南京西路店"), staff_make("林芳")
    session = _open(location, cashier, 10_000)
    cash_bill_make(2_000, location=location, paid_at=timezone.now() - HOUR)

    with pytest.raises(ServiceError) as refused:
        cash_movement_record(session=session, kind="pay_out", amount=12_001, reason="Bank", acting_user=cashier)
    assert refused.value.code == PosError.PAY_OUT_EXCEEDS_CASH
    assert refused.value.as_dict() == {"amount": ["There is not that much cash in the drawer."]}

    cash_movement_record(session=session, kind="pay_out", amount=12_000, reason="Bank", acting_user=cashier)
    assert cash_session_figures(session).expected_cash == 0


def test_one_open_session_per_location(in_alpha):
    # given an open session at one location
    location, cashier = location_make("南京西路店"), staff_make("林芳")
    first = _open(location, cashier)

    # when a second till opens the same drawer
    with pytest.raises(ServiceError) as refused:
        cash_session_open(location=location, opening_float=0, acting_user=staff_make("Li"))

    # then it is told one is open, with which; another location opens its own
    assert refused.value.status == 409
    assert refused.value.as_dict() == {
        "detail": "A cash session is already open at this location.",
        "code": "cash_session_already_open",
        "session": first.pk,
    }
    assert cash_session_open(location=location_make("静安店"), opening_float=0, acting_user=cashier).status == "open"
    # and the database refuses it even past the service
    with pytest.raises(IntegrityError), transaction.atomic():
        CashSession.objects.create(location=location, opening_float=0, opened_by=cashier)


def test_closed_sessions_take_nothing_more(in_alpha):
    location, cashier = location_make("南京西路店"), staff_make("林芳")
    session = _open(location, cashier)
    cash_session_close(session=session, counted_cash=50_000, acting_user=cashier)
    for action in (
        lambda: cash_movement_record(session=session, kind="pay_in", amount=100, reason="x", acting_user=cashier),
        lambda: cash_session_close(session=session, counted_cash=1, acting_user=cashier),
    ):
        with pytest.raises(ServiceError) as refused:
            action()
        assert refused.value.code == PosError.CASH_SESSION_CLOSED and refused.value.status == 409
    assert CashMovement.objects.count() == 0
    assert CashSession.objects.get().counted_cash == 50_000
    # and the location can open its next session
    assert cash_session_open(location=location, opening_float=0, acting_user=cashier).status == "open"


@pytest.mark.parametrize(
    ("call", "code", "field"),
    [
        ("open", {"opening_float": -1}, "opening_float"),
        ("open", {"opening_float": True}, "opening_float"),
        ("open", {"opening_float": 10_000_000_001}, "opening_float"),
        ("open", {"opening_float": "100"}, "opening_float"),
        ("open", {"note": "x" * 201}, "note"),
        ("pay", {"amount": 0}, "amount"),
        ("pay", {"reason": "  "}, "reason"),
        ("pay", {"kind": "refund"}, "kind"),
        ("close", {"counted_cash": -5}, "counted_cash"),
        ("close", {"counted": {"bitcoin": 100}}, "counted"),
        ("close", {"counted": {"cash": 100}}, "counted"),
        ("close", {"counted": {"wechat": -1}}, "counted"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(in_alpha, call, code, field):
    location, cashier = location_make("南京西路店"), staff_make("林芳")
    session = _open(location, cashier) if call != "open" else None
    before = (CashSession.objects.count(), CashMovement.objects.count(), CashSessionTally.objects.count())
    with pytest.raises(ServiceError) as refused:
        if call == "open":
            cash_session_open(
                location=location_make("静安店"),
                acting_user=cashier,
                **{"opening_float": 100, **code},
            )
        elif call == "pay":
            cash_movement_record(
                session=session, acting_user=cashier, **{"kind": "pay_in", "amount": 100, "reason": "x", **code}
            )
        else:
            cash_session_close(session=session, acting_user=cashier, **{"counted_cash": 100, **code})
    assert list(refused.value.errors) == [field]
    assert (CashSession.objects.count(), CashMovement.objects.count(), CashSessionTally.objects.count()) == before
    assert CashSession.objects.filter(status="closed").count() == 0


def test_cash_movements_are_append_only(in_alpha):
    location, cashier = location_make("南京西路店"), staff_make("林芳")
    movement = cash_movement_record(
        session=_open(location, cashier), kind="pay_in", amount=100, reason="Change", acting_user=cashier
    )
    for statement in (
        lambda: CashMovement.objects.filter(pk=movement.pk).update(amount=1),
        lambda: CashMovement.objects.filter(pk=movement.pk).delete(),
    ):
        with pytest.raises(Exception, match="cannot be changed or deleted"), transaction.atomic():
            statement()
    assert CashMovement.objects.get().amount == 100


def test_cash_can_be_required_to_go_through_an_open_session(in_alpha):
    # given a salon that takes cash only in an open session, and a location without one
    location, cashier = location_make("南京西路店"), staff_make("林芳")
    assert cash_session_require_open(location=location) is None  # the default: allowed without one
    PosSettings.objects.update_or_create(pk=1, defaults={"cash_session_required": True})

    # when the payment flow asks before taking cash
    with pytest.raises(ServiceError) as refused:
        cash_session_require_open(location=location)

    # then it is refused until a session is open there
    assert refused.value.code == PosError.CASH_SESSION_REQUIRED and refused.value.status == 409
    session = _open(location, cashier)
    assert cash_session_require_open(location=location) == session


def test_idempotency_keys_replay_open_and_movements(in_alpha):
    location, cashier = location_make("南京西路店"), staff_make("林芳")
    first = cash_session_open(location=location, opening_float=100, acting_user=cashier, idempotency_key="o-1")
    again = cash_session_open(location=location, opening_float=100, acting_user=cashier, idempotency_key="o-1")
    assert again.pk == first.pk and again.is_replay
    one = cash_movement_record(
        session=first, kind="pay_in", amount=100, reason="x", acting_user=cashier, idempotency_key="m-1"
    )
    two = cash_movement_record(
        session=first, kind="pay_in", amount=100, reason="x", acting_user=cashier, idempotency_key="m-1"
    )
    assert one.pk == two.pk and two.is_replay and CashMovement.objects.count() == 1


# --- concurrency ----------------------------------------------------------------------------------


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("cash-race") as schema:
        yield schema


def test_twenty_tills_opening_one_drawer_at_once_get_one_session(race_salon):
    # given twenty cashiers at one location
    with schema_context(race_salon):
        location = Location.objects.order_by("pk").first()
        cashiers = [staff_make(f"Cashier {i}") for i in range(20)]

    # when all open the drawer at the same moment
    def work(i: int) -> Any:
        return cash_session_open(location=location, opening_float=1_000, acting_user=cashiers[i])

    outcomes = race(race_salon, 20, work)

    # then one session is open and nineteen were told so
    opened = [o for o in outcomes if isinstance(o, CashSession)]
    refused = [o for o in outcomes if not isinstance(o, CashSession)]
    assert len(opened) == 1, refused[:3]
    assert all(isinstance(r, ServiceError) and r.code == PosError.CASH_SESSION_ALREADY_OPEN for r in refused)
    assert {r.extra["session"] for r in refused} == {opened[0].pk}
    with schema_context(race_salon):
        assert CashSession.objects.count() == 1


def test_pay_outs_at_once_never_take_more_than_the_drawer_holds(race_salon):
    # given a drawer with 50 yuan
    with schema_context(race_salon):
        location = Location.objects.order_by("pk").first()
        cashier = staff_make("Cashier")
        session = cash_session_open(location=location, opening_float=5_000, acting_user=cashier)

    # when twelve pay-outs of 10 yuan are made at the same moment
    def work(i: int) -> Any:
        return cash_movement_record(session=session, kind="pay_out", amount=1_000, reason="Petty", acting_user=cashier)

    outcomes = race(race_salon, 12, work)

    # then five went through and the drawer is empty, not negative
    done = [o for o in outcomes if isinstance(o, CashMovement)]
    assert len(done) == 5
    assert all(o.code == PosError.PAY_OUT_EXCEEDS_CASH for o in outcomes if not isinstance(o, CashMovement))
    with schema_context(race_salon):
        assert cash_session_figures(CashSession.objects.get()).expected_cash == 0


def test_closing_waits_for_a_cash_payment_in_flight_and_counts_it(race_salon):
    # given an open drawer with 100 yuan
    with schema_context(race_salon):
        location = Location.objects.order_by("pk").first()
        cashier = staff_make("Cashier")
        session = cash_session_open(location=location, opening_float=10_000, acting_user=cashier)
        CashSession.objects.filter(pk=session.pk).update(opened_at=timezone.now() - HOUR)
    locked = threading.Event()
    outcome: dict[str, Any] = {}

    def pay() -> None:
        try:
            with schema_context(race_salon), transaction.atomic():
                cash_session_require_open(location=location)  # the payment flow's check, holding KEY SHARE
                locked.set()
                time.sleep(0.5)  # the close arrives while this payment is still being written
                cash_bill_make(2_500, location=location)
        except Exception as exc:
            outcome["pay"] = exc
        finally:
            connections.close_all()

    def close() -> None:
        try:
            locked.wait(10)
            with schema_context(race_salon):
                outcome["closed"] = cash_session_close(session=session, counted_cash=12_500, acting_user=cashier)
        except Exception as exc:
            outcome["close"] = exc
        finally:
            connections.close_all()

    # when the drawer is closed while a cash payment is being taken
    threads = [threading.Thread(target=pay), threading.Thread(target=close)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # then the close waited for the payment and counted it: nothing is missing
    assert "pay" not in outcome and "close" not in outcome, outcome
    closed = outcome["closed"]
    assert (closed.expected_cash, closed.cash_difference) == (12_500, 0)
    with schema_context(race_salon):
        tender = Tender.objects.get()
        assert tender.settled_at < closed.closed_at
