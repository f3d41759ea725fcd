"""Taking payment (POS-2) and what a paid bill sets off.

``bill_pay`` takes one or several tenders at once (cash with change, stored value, points, course-card
sessions) under the bill's row lock. It refuses, with nothing written anywhere, tenders the salon has
not enabled, amounts that do not add up to what is due, a bill already paid or voided, and every
refusal of loyalty's (a short balance, a lost card, too few points, a wrong one-time code): all money
moves in the one transaction, so a later tender failing gives back the ones before it. Each payment
is named by an idempotency key: a replay returns the first result and changes nothing.

When the succeeded tenders reach the total the bill is complete, once (``bill_complete``): coupons
redeemed, points earned, top-ups credited, course cards issued, the lines recorded in the clients'
histories (tiers evaluated once per client), the referral reward, and the ``bill_paid`` signal.

WeChat Pay and Alipay come from the payment gateways, asked outside any transaction: ``bill_pay`` refuses
them and ``services.gateway_tenders.bill_pay_gateway`` takes them. A gateway tender is written pending and
``bill_tender_settle`` (also the receiver of the gateway's "paid" notice) settles it and completes the bill
when it is the last one due.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation

from apps.catalog.models import Package, PackageItem
from apps.core.models import User
from apps.core.money import MAX_AMOUNT, fen_to_yuan
from apps.crm.models import Client, PurchaseLine, PurchaseSource
from apps.crm.services.clients import purchases_record
from apps.loyalty.models import Coupon, CourseCard
from apps.loyalty.services._common import Verification, loyalty_settings
from apps.loyalty.services.coupons import coupon_redeem
from apps.loyalty.services.courses import course_card_sell, course_session_redeem, package_card_sell
from apps.loyalty.services.points import points_earn_for_spend, points_redeem_for_money, points_value
from apps.loyalty.services.referrals import referral_reward_on_first_paid_visit
from apps.loyalty.services.wallets import wallet_debit, wallet_top_up
from apps.pos.errors import PosError, pos_error
from apps.pos.models import (
    Bill,
    BillCoupon,
    BillLine,
    BillStatus,
    CashMovementKind,
    LineKind,
    Tender,
    TenderMethod,
    TenderStatus,
)
from apps.pos.selectors.bills import bill_lines, pos_settings, succeeded_tenders
from apps.pos.services.bill_coupons import draft_lines
from apps.pos.services.bills import is_top_up_sale, key_checked, require, top_up_sale_void_unpaid, whole
from apps.pos.services.cash import cash_movement_record, cash_session_require_open
from apps.pos.signals import bill_paid
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import Deposit, DepositMethod
from apps.scheduling.selectors.deposits import deposit_held
from apps.scheduling.services.booking import deposit_apply

MAX_TENDERS = 10
GATEWAYS = (TenderMethod.WECHAT, TenderMethod.ALIPAY)
# Tenders drawn on what the client holds with the salon: they never pay for a top-up.
MEMBER_METHODS = (TenderMethod.STORED_VALUE, TenderMethod.POINTS, TenderMethod.COURSE_CARD)
# Tenders that are not money spent: points are not earned on what they paid.
NOT_SPEND = (TenderMethod.POINTS, TenderMethod.COURSE_CARD)
_ACCEPTS = {
    TenderMethod.CASH: "accepts_cash",
    TenderMethod.WECHAT: "accepts_wechat",
    TenderMethod.ALIPAY: "accepts_alipay",
    TenderMethod.STORED_VALUE: "accepts_stored_value",
    TenderMethod.POINTS: "accepts_points",
    TenderMethod.COURSE_CARD: "accepts_course_card",
}


@dataclass(frozen=True)
class TenderRequest:
    """One tender of a payment. ``amount`` is what it pays off the bill (for points, None means the points'
    value; for a course-card session, None means the session's share of ``bill_line``); ``tendered`` the
    cash handed over (None: exactly the amount); ``verification`` the client's one-time code or a manager's
    override, checked beforehand with ``loyalty.services._common.redemption_code_check``."""

    method: str
    amount: int | None = None
    tendered: int | None = None
    points: int | None = None
    course_card: CourseCard | None = None
    bill_line: BillLine | None = None
    verification: Verification | None = None


@dataclass
class Payment:
    """What ``bill_pay`` did: the bill after it, its lines, the tenders of this payment (the earlier ones
    when ``is_replay``)."""

    bill: Bill
    lines: list[BillLine]
    tenders: list[Tender] = field(default_factory=list)
    is_replay: bool = False

    @property
    def completed(self) -> bool:
        return self.bill.status == BillStatus.PAID


# --- the locked bill ------------------------------------------------------------------------------------

# The salon's enabled tenders as one string of 0/1 flags in ``_ACCEPTS`` order, and the amount of gateway
# tenders still pending on the bill: raw scalar subqueries, read in the statement that locks the bill (the
# checkout's hot path: one round trip, and next to nothing for the ORM to compile).
_FLAGS = RawSQL(  # noqa: S611 - constant column names, no input
    "SELECT " + " || ".join(f"{name}::int::text" for name in _ACCEPTS.values()) + " FROM pos_possettings WHERE id = 1",
    [],
)
_PENDING = RawSQL(
    "SELECT COALESCE(SUM(t.amount), 0) FROM pos_tender t WHERE t.bill_id = pos_bill.id AND t.status = %s",
    [TenderStatus.PENDING.value],
)


def _locked_for_payment(pk: int) -> tuple[Bill, dict[str, bool], int]:
    """The bill locked with its client, the salon's enabled tenders and the amount of gateway tenders still
    pending on it, in one statement."""
    bills = (
        Bill.objects.select_for_update(of=("self",))
        .select_related("client", "location")
        .annotate(pos_flags=_FLAGS, pos_pending=_PENDING)
    )
    bill: Bill = bills.get(pk=pk)
    flags: str | None = getattr(bill, "pos_flags", None)
    if flags is None:  # no settings row yet: make it, then read again
        pos_settings()
        bill = bills.get(pk=pk)
        flags = str(getattr(bill, "pos_flags", ""))
    accepts = {str(method): flag == "1" for method, flag in zip(_ACCEPTS, flags, strict=True)}
    accepts[TenderMethod.DEPOSIT] = True  # a deposit the salon took is always applied to its visit's bill
    pending = int(getattr(bill, "pos_pending", 0) or 0)
    if accepts.get(TenderMethod.WECHAT) or accepts.get(TenderMethod.ALIPAY):
        # Read again after the lock. A subquery of the locking statement keeps that statement's snapshot,
        # so a gateway tender committed by a concurrent payment while this one waited for the lock would
        # not be in it, and a cash payment could settle a bill a gateway was charging at the same time.
        # Only a salon that takes a gateway can have such a tender, so the others keep one statement.
        pending = int(
            Tender.objects.filter(bill_id=pk, status=TenderStatus.PENDING).aggregate(total=Sum("amount"))["total"] or 0
        )
    return bill, accepts, pending


# --- checking a payment ---------------------------------------------------------------------------------


def _shape_checked(tenders: Sequence[TenderRequest]) -> list[TenderRequest]:
    requests = list(tenders)
    if len(requests) > MAX_TENDERS:
        raise pos_error(PosError.TOO_MANY_TENDERS)
    for request in requests:
        if request.method not in TenderMethod.values:
            raise pos_error(PosError.TENDER_INVALID_METHOD)
        if request.amount is not None and not whole(request.amount, low=1, high=MAX_AMOUNT):
            raise pos_error(PosError.TENDER_INVALID_AMOUNT)
        if request.amount is None and request.method not in (TenderMethod.POINTS, TenderMethod.COURSE_CARD):
            raise pos_error(PosError.TENDER_INVALID_AMOUNT)
        if request.method == TenderMethod.CASH and request.tendered is not None:
            if not whole(request.tendered, low=1, high=MAX_AMOUNT):
                raise pos_error(PosError.TENDER_INVALID_AMOUNT)
            if request.amount is not None and request.tendered < request.amount:
                raise pos_error(PosError.CASH_TENDERED_SHORT)
        if (
            request.method == TenderMethod.POINTS
            and request.points is not None
            and not whole(request.points, low=1, high=1_000_000_000)
        ):
            raise pos_error(PosError.TENDER_INVALID_AMOUNT)
        if request.method == TenderMethod.POINTS and request.points is None and request.amount is None:
            raise pos_error(PosError.TENDER_INVALID_AMOUNT)
    return requests


def _points_for(request: TenderRequest) -> tuple[int, int]:
    """(points, value in fen) of a points tender: the points given, or the fewest points worth the amount;
    their value must be the amount exactly (points are worth whole fen only)."""
    settings_row = loyalty_settings()
    points = request.points
    if points is None:
        assert request.amount is not None
        points = -(-request.amount * 100 // settings_row.points_value_fen)  # rounded up
    value = points_value(points, settings_row=settings_row)
    if request.amount is not None and value != request.amount:
        raise pos_error(PosError.POINTS_AMOUNT_MISMATCH, extra={"points": points, "value": value})
    if value <= 0:
        from apps.loyalty.errors import LoyaltyError, loyalty_error

        raise loyalty_error(LoyaltyError.POINTS_TOO_FEW)
    return points, value


def session_value(line: BillLine, nth: int) -> int:
    """What the ``nth`` session paid on a service line is worth (1-based): the line's amount spread over its
    units, the odd fen on the later ones, so all its units together make the amount exactly."""
    return line.amount * nth // line.quantity - line.amount * (nth - 1) // line.quantity


def _sessions_taken(bill: Bill) -> dict[int, int]:
    taken: dict[int, int] = {}
    lines = Tender.objects.filter(
        bill=bill, method=TenderMethod.COURSE_CARD, status__in=[TenderStatus.SUCCEEDED, TenderStatus.PENDING]
    ).values_list("bill_line_id", flat=True)
    for line_id in lines:
        taken[line_id] = taken.get(line_id, 0) + 1
    return taken


@dataclass
class _Planned:
    request: TenderRequest
    amount: int
    points: int = 0
    line: BillLine | None = None
    deposit: Deposit | None = None


def _plan(bill: Bill, requests: list[TenderRequest], lines: list[BillLine]) -> list[_Planned]:
    """Each tender with its amount worked out and its conditions checked against the bill."""
    by_pk = {line.pk: line for line in lines}
    sessions = (
        _sessions_taken(bill) if bill.paid_total and any(r.method == TenderMethod.COURSE_CARD for r in requests) else {}
    )
    planned: list[_Planned] = []
    for request in requests:
        if request.method in MEMBER_METHODS and bill.client_id is None:
            raise pos_error(PosError.TENDER_NEEDS_CLIENT)
        if request.method == TenderMethod.POINTS:
            points, value = _points_for(request)
            planned.append(_Planned(request, value, points=points))
        elif request.method == TenderMethod.COURSE_CARD:
            line = by_pk.get(request.bill_line.pk) if request.bill_line is not None else None
            if line is None or line.kind != LineKind.SERVICE or request.course_card is None:
                raise pos_error(PosError.COURSE_LINE_REQUIRED)
            if request.course_card.client_id not in (bill.client_id, line.guest_id):
                raise pos_error(PosError.COURSE_CARD_OTHER_CLIENT)
            nth = sessions.get(line.pk, 0) + 1
            if nth > line.quantity:
                raise pos_error(PosError.COURSE_LINE_COVERED)
            sessions[line.pk] = nth
            value = session_value(line, nth)
            if request.amount is not None and request.amount != value:
                raise pos_error(PosError.TENDER_INVALID_AMOUNT, extra={"session_value": value})
            if value <= 0:
                raise pos_error(PosError.TENDER_INVALID_AMOUNT)
            planned.append(_Planned(request, value, line=line))
        elif request.method == TenderMethod.DEPOSIT:
            assert request.amount is not None
            if any(p.request.method == TenderMethod.DEPOSIT for p in planned):
                raise pos_error(PosError.TENDER_INVALID_METHOD, message=_deposit_once())
            held = deposit_held(bill.appointment_id)
            if held is None:
                raise scheduling_error(SchedulingError.DEPOSIT_NOT_HELD)
            # More than is held is refused by scheduling's deposit_apply when the tender is taken.
            planned.append(_Planned(request, request.amount, deposit=held))
        else:
            assert request.amount is not None
            planned.append(_Planned(request, request.amount))
    return planned


def plan_checked(bill: Bill, requests: list[TenderRequest], lines: list[BillLine], *, due: int) -> list[_Planned]:
    """The tenders planned and checked against the whole of what is due (a payment always settles the
    bill): they add up to it; what the client holds with the salon (stored value, points, sessions, a
    deposit taken from stored value) does not pay for a top-up; a deposit held for the visit is applied."""
    planned = _plan(bill, requests, lines)
    entered = sum(p.amount for p in planned)
    if entered != due or (not planned and due):
        raise pos_error(PosError.TENDERS_DO_NOT_SUM, extra={"due": due, "entered": entered})
    member_paid = sum(
        p.amount
        for p in planned
        if p.request.method in MEMBER_METHODS
        or (p.deposit is not None and p.deposit.method == DepositMethod.STORED_VALUE)
    )
    if member_paid and member_paid > sum(line.amount for line in lines if line.kind != LineKind.TOP_UP):
        raise pos_error(PosError.MEMBER_TENDERS_OVER_TOP_UP)
    if bill.appointment_id is not None and not any(p.deposit is not None for p in planned):
        # The visit's deposit is the client's money held for this bill: it is used, not left held.
        held = deposit_held(bill.appointment_id)
        if held is not None:
            raise pos_error(
                PosError.DEPOSIT_NOT_APPLIED,
                message=_deposit_not_applied(held.amount),
                extra={"deposit": held.amount},
            )
    return planned


def _deposit_not_applied(held: int) -> str:
    from django.utils.translation import gettext

    return gettext(
        "A deposit of ¥%(amount)s is held for this visit: take it as one of the payments (Booking deposit)."
    ) % {"amount": fen_to_yuan(held)}


def _deposit_once() -> str:
    from django.utils.translation import gettext

    return gettext("Apply the deposit in one payment.")


def _replayed(bill: Bill, key: str, requests: list[TenderRequest]) -> list[Tender] | None:
    """The tenders an earlier payment with ``key`` wrote on this bill, if any; a different payment under
    the same key is refused."""
    earlier = list(Tender.objects.filter(bill=bill, idempotency_key__startswith=f"{bill.pk}:{key}:").order_by("id"))
    if not earlier:
        return None
    same = len(earlier) == len(requests) and all(
        t.method == r.method and (r.amount is None or r.amount == t.amount)
        for t, r in zip(earlier, requests, strict=False)
    )
    if not same:
        raise pos_error(PosError.KEY_REUSED)
    return earlier


# --- paying ---------------------------------------------------------------------------------------------


@transaction.atomic
def bill_pay(
    *, bill: Bill, tenders: Sequence[TenderRequest], idempotency_key: str, acting_user: User | None
) -> Payment:
    """Pay what is due on an open bill with one or several tenders (``take_payments``). Everything or
    nothing: a refused tender, a short balance or a failing tender after others leaves every ledger as it
    was. Cash may be handed over above its amount (the change is recorded). Stored value, points and
    course-card sessions are the client's (a session pays one unit of a service line; a course-card
    holder may be the line's guest) and never pay for a top-up. Two tills paying one bill queue on its
    lock and the second is told it is paid; a replay of ``idempotency_key`` returns the first payment."""
    require(acting_user, "take_payments")
    key = key_checked(idempotency_key)
    requests = _shape_checked(tenders)
    locked, accepts, pending = _locked_for_payment(bill.pk)
    if locked.status != BillStatus.OPEN or locked.paid_total or pending:
        earlier = _replayed(locked, key, requests)
        if earlier is not None:
            return Payment(bill=locked, lines=bill_lines(locked), tenders=earlier, is_replay=True)
        if locked.status == BillStatus.PAID:
            raise pos_error(PosError.BILL_ALREADY_PAID)
        if locked.status != BillStatus.OPEN:
            raise pos_error(PosError.BILL_NOT_OPEN)
    for request in requests:
        if not accepts[request.method]:
            raise pos_error(
                PosError.TENDER_NOT_ENABLED,
                message=_not_enabled(request.method),
            )
        if request.method in GATEWAYS:
            # A gateway is asked outside any transaction: services/gateway_tenders.bill_pay_gateway takes
            # these (docs/till.md, "Gateway tenders").
            raise pos_error(PosError.TENDER_NOT_CONNECTED)
    lines = bill_lines(locked)
    if not lines:
        raise pos_error(PosError.BILL_EMPTY)
    planned = plan_checked(locked, requests, lines, due=locked.total - locked.paid_total - pending)
    written = _take(locked, planned, key, acting_user)
    _settle(locked, written, acting_user)
    if locked.status == BillStatus.PAID:
        everything = written if locked.paid_total == sum(t.amount for t in written) else succeeded_tenders(locked)
        bill_complete(locked, lines=lines, tenders=everything, acting_user=acting_user)
    return Payment(bill=locked, lines=lines, tenders=written)


def _not_enabled(method: str) -> str:
    from django.utils.translation import gettext

    return gettext("This salon does not take %(method)s at the till.") % {"method": TenderMethod(method).label}


def _take(bill: Bill, planned: list[_Planned], key: str, acting_user: User | None) -> list[Tender]:
    """Move the money of each tender (loyalty's services for the member tenders) and write the tenders,
    succeeded, in one INSERT. A refusal raised here rolls back the tenders taken before it."""
    reference = f"bill:{bill.pk}"
    now = timezone.now()
    actor = acting_user if acting_user is not None and acting_user.pk else None
    rows: list[Tender] = []
    cash_checked = False
    for number, plan in enumerate(planned, start=1):
        request = plan.request
        ledger_key = f"bill:{bill.pk}:{key}:{number}"
        tender = Tender(
            bill=bill,
            method=request.method,
            amount=plan.amount,
            status=TenderStatus.SUCCEEDED,
            idempotency_key=f"{bill.pk}:{key}:{number}",
            created_by=actor,
            settled_at=now,
        )
        if request.method == TenderMethod.CASH:
            if not cash_checked:
                # A closing drawer waits for this payment; a salon that takes cash only in an open session
                # refuses it when none is open.
                cash_session_require_open(location=bill.location)
                cash_checked = True
            tender.tendered = request.tendered if request.tendered is not None else plan.amount
            tender.change = tender.tendered - plan.amount
        elif request.method == TenderMethod.STORED_VALUE:
            assert bill.client is not None
            wallet_debit(
                client=bill.client,
                amount=plan.amount,
                idempotency_key=ledger_key,
                reference=reference,
                acting_user=acting_user,
                verification=request.verification,
            )
        elif request.method == TenderMethod.POINTS:
            assert bill.client is not None
            points_redeem_for_money(
                client=bill.client,
                points=plan.points,
                reference=reference,
                idempotency_key=ledger_key,
                acting_user=acting_user,
                verification=request.verification,
            )
            tender.points = plan.points
        elif request.method == TenderMethod.COURSE_CARD:
            assert plan.line is not None and plan.line.service is not None and request.course_card is not None
            shares = list(plan.line.staff_shares.all())
            course_session_redeem(
                card=request.course_card,
                service=plan.line.service,
                idempotency_key=ledger_key,
                reference=reference,
                staff=shares[0].staff if shares else None,
                location=bill.location,
                acting_user=acting_user,
                verification=request.verification,
            )
            tender.course_card = request.course_card
            tender.bill_line = plan.line
        elif request.method == TenderMethod.DEPOSIT:
            assert plan.deposit is not None
            applied = deposit_apply(
                appointment_id=plan.deposit.appointment_id,
                amount=plan.amount,
                reference=reference,
                acting_user=acting_user,
            )
            if applied.returned and applied.deposit.method == DepositMethod.DESK:
                _deposit_rest_paid_out(bill, applied.returned, acting_user)
            tender.deposit = applied.deposit
        rows.append(tender)
    try:
        with transaction.atomic(savepoint=False):
            Tender.objects.bulk_create(rows)
    except IntegrityError as exc:  # the same key on this bill from a concurrent request: never twice
        raise pos_error(PosError.KEY_REUSED) from exc
    return rows


def _deposit_rest_paid_out(bill: Bill, amount: int, acting_user: User | None) -> None:
    """What a deposit paid at the desk held beyond the bill goes back to the client in cash: out of the
    drawer, recorded as a pay-out, when a cash session is open at the bill's location (a salon that takes
    cash only in an open session is refused without one, like any cash)."""
    from django.utils.translation import gettext

    session = cash_session_require_open(location=bill.location)
    if session is None or acting_user is None or not acting_user.pk:
        return
    cash_movement_record(
        session=session,
        kind=CashMovementKind.PAY_OUT,
        amount=amount,
        reason=gettext("Rest of the booking deposit given back, bill %(number)s") % {"number": bill.number},
        acting_user=acting_user,
        idempotency_key=f"deposit-rest:bill:{bill.pk}",
    )


def _settle(bill: Bill, written: list[Tender], acting_user: User | None) -> None:
    bill.paid_total += sum(t.amount for t in written)
    bill.change_given += sum(t.change for t in written)
    fields = ["paid_total", "change_given", "updated_at"]
    if bill.paid_total == bill.total:
        bill.status = BillStatus.PAID
        bill.paid_at = timezone.now()
        bill.closed_by = acting_user if acting_user is not None and acting_user.pk else None
        fields += ["status", "paid_at", "closed_by"]
    bill.save(update_fields=fields)


# --- gateway tenders (the hook for payments) ------------------------------------------------------------


@transaction.atomic
def bill_tender_settle(*, tender: Tender, provider_transaction_id: str = "", acting_user: User | None = None) -> Bill:
    """A pending gateway tender was paid (the receiver of ``payments.signals.gateway_payment_settled`` calls
    this): it becomes succeeded, counts towards the bill, and completes the bill when it is the last one
    due. Settling it again changes nothing (a duplicated notice); a failed or cancelled tender is refused.
    Locks the bill, then the tender (the order every payment takes)."""
    locked, _accepts, _pending = _locked_for_payment(tender.bill_id)
    current = Tender.objects.select_for_update().get(pk=tender.pk)
    if current.status == TenderStatus.SUCCEEDED:
        return locked
    if current.status != TenderStatus.PENDING:
        raise pos_error(PosError.TENDER_NOT_PENDING)
    if locked.status != BillStatus.OPEN:
        raise pos_error(PosError.BILL_NOT_OPEN)
    current.status = TenderStatus.SUCCEEDED
    current.settled_at = timezone.now()
    current.provider_transaction_id = provider_transaction_id or None
    current.save(update_fields=["status", "settled_at", "provider_transaction_id"])
    _settle(locked, [current], acting_user)
    if locked.status == BillStatus.PAID:
        bill_complete(locked, lines=bill_lines(locked), tenders=succeeded_tenders(locked), acting_user=acting_user)
    return locked


@transaction.atomic
def bill_tender_fail(*, tender: Tender, failure_code: str = "", failure_message: str = "") -> Tender:
    """A pending gateway tender failed or was cancelled by the client: it no longer counts, and what it was
    to pay is due again. A tender already settled or failed is left as it is. A top-up sold over the counter
    (``top_ups.top_up_sell``) whose payment failed is not sold: its bill is voided with the reason."""
    locked, _accepts, _pending = _locked_for_payment(tender.bill_id)
    current = Tender.objects.select_for_update().get(pk=tender.pk, bill=locked)
    if current.status != TenderStatus.PENDING:
        return current
    current.status = TenderStatus.FAILED
    current.failure_code = failure_code[:60]
    current.failure_message = failure_message[:255]
    current.settled_at = timezone.now()
    current.save(update_fields=["status", "failure_code", "failure_message", "settled_at"])
    if is_top_up_sale(locked):  # the key is read first: other bills cost no query here
        top_up_sale_void_unpaid(locked, reason=_top_up_not_paid(current))
    return current


def _top_up_not_paid(tender: Tender) -> str:
    """The void's reason, kept in the salon's language (as the tender label of a paid bill)."""
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext("Top-up not paid: %(reason)s") % {
            "reason": tender.failure_message
            or tender.failure_code
            or translation.gettext("The payment did not go through.")
        }


# --- completion -----------------------------------------------------------------------------------------


def earn_base(lines: Sequence[BillLine], tenders: Sequence[Tender]) -> int:
    """What points are earned on: the bill's lines except top-ups (stored value earns when it is spent),
    less what points and course-card sessions paid."""
    spent = sum(line.amount for line in lines if line.kind != LineKind.TOP_UP)
    return max(0, spent - sum(t.amount for t in tenders if t.method in NOT_SPEND))


def _tender_label(tenders: Sequence[Tender]) -> str:
    methods = list(dict.fromkeys(t.method for t in tenders))
    with translation.override(settings.LANGUAGE_CODE):
        return " + ".join(str(TenderMethod(m).label) for m in methods)[:100]


def _redeem_coupons(bill: Bill, lines: list[BillLine], acting_user: User | None) -> None:
    applied = list(BillCoupon.objects.filter(bill=bill).select_related("coupon__template"))
    if not applied:
        return
    assert bill.client is not None
    drafts, _by_draft = draft_lines(lines)
    coupons: list[Coupon] = [bc.coupon for bc in applied]
    # Redeemed in the order loyalty shares a stack out (largest first), so each coupon's recorded
    # discount is the share the bill took.
    for applied_coupon in sorted(
        applied, key=lambda bc: (-bc.discount, bc.coupon.valid_until or datetime.date.max, bc.coupon_id)
    ):
        coupon_redeem(
            coupon=applied_coupon.coupon,
            client=bill.client,
            lines=drafts,
            reference=f"bill:{bill.pk}",
            acting_user=acting_user,
            other_coupons=coupons,
        )


def _package_sold(line: BillLine, *, holder: Client | None, reference: str, acting_user: User | None) -> None:
    """A paid package line: the products one unit holds kept on the line (stock leaves by them, and comes
    back by them on a refund), and its services issued as a package card to the line's holder, the
    sessions multiplied by the line's quantity."""
    assert line.package_id is not None
    items = list(PackageItem.objects.filter(package_id=line.package_id).order_by("id"))
    line.package_products = [[item.product_id, item.quantity] for item in items if item.product_id is not None]
    fields = ["package_products"]
    if holder is not None and any(item.service_id is not None for item in items):
        line.course_card = package_card_sell(
            client=holder,
            package=Package(pk=line.package_id),
            quantity=line.quantity,
            idempotency_key=f"{reference}:line:{line.pk}",
            reference=reference,
            price=line.amount,
            acting_user=acting_user,
        )
        fields.append("course_card")
    line.save(update_fields=fields)


def bill_complete(bill: Bill, *, lines: list[BillLine], tenders: list[Tender], acting_user: User | None) -> None:
    """Everything a paid bill sets off, once (the caller has just moved it to paid under its lock): the
    coupons redeemed in loyalty, points earned once, top-ups credited (with the salon's top-up rule, the
    bonus kept on the line), course cards issued, a package's services issued as a package card (and its
    products kept on the line for stock), each line recorded in the history of the client it was
    for (crm's hooks run once per client, so a tier is evaluated once per bill), the referrer's reward on
    a first paid visit, and ``bill_paid`` for commission, stock, receipts and messages."""
    reference = f"bill:{bill.pk}"
    client = bill.client
    if client is not None:
        if bill.discount_total:
            _redeem_coupons(bill, lines, acting_user)
        base = earn_base(lines, tenders)
        if base:
            points_earn_for_spend(
                client=client,
                amount_spent=base,
                reference=reference,
                idempotency_key=f"{reference}:earn",
                acting_user=acting_user,
            )
    for line in lines:
        holder = line.guest or client
        if line.kind == LineKind.PACKAGE:
            _package_sold(line, holder=holder, reference=reference, acting_user=acting_user)
            continue
        if holder is None:
            continue
        if line.kind == LineKind.TOP_UP:
            entry = wallet_top_up(
                client=holder,
                amount=line.amount,
                idempotency_key=f"{reference}:line:{line.pk}",
                reference=reference,
                acting_user=acting_user,
            )
            line.top_up_bonus = entry.bonus_delta
            line.save(update_fields=["top_up_bonus"])
        elif line.kind == LineKind.COURSE_CARD:
            assert line.course_template is not None
            line.course_card = course_card_sell(
                client=holder,
                template=line.course_template,
                idempotency_key=f"{reference}:line:{line.pk}",
                reference=reference,
                price=line.amount,
                acting_user=acting_user,
            )
            line.save(update_fields=["course_card"])
    paid_by = _tender_label(tenders)
    purchases = []
    for line in lines:
        holder = line.guest or client
        if holder is None:
            continue
        shares = list(line.staff_shares.all())
        lead = shares[0].staff if shares else None
        purchases.append(
            PurchaseLine(
                client=holder,
                occurred_at=bill.paid_at or timezone.now(),
                item_name=line.name,
                amount=line.amount,
                kind=line.kind,
                quantity=line.quantity,
                staff=lead,
                staff_name=lead.name if lead is not None else "",
                tender=paid_by,
                location_id=bill.location_id,
                visit_reference=reference,
                reference=f"{reference}:line:{line.pk}",
                source=PurchaseSource.TILL,
            )
        )
    if purchases:
        purchases_record(lines=purchases)
    if client is not None and client.referrer_id is not None:
        referral_reward_on_first_paid_visit(client=client, reference=reference)
    bill_paid.send(sender=Bill, bill=bill, lines=lines, tenders=tenders, acting_user=acting_user)
