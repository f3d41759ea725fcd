"""Refunds of paid bills (POS-4), whole or in part, by lines and quantities or by an amount.

The money goes back to the tenders that paid, never more than each took and never more than the bill
has left to refund, in a fixed order: first the course-card sessions that paid for the units refunded,
then stored value (``wallet_debit_reverse``: principal and bonus in the payment's own proportion), then
points (``points_redeem_reverse`` gives a redemption back whole, so points are refunded only when what is
left covers them), then cash (recorded as paid out of the till). Points earned on the bill are taken back
in proportion to what is refunded (all of them on a full refund), a sold course card is voided when none
of its sessions were used, the coupons come back to the client once the whole bill is refunded, and the
clients' histories get the refund as negative lines. Top-ups are not refunded from the bill: stored value
leaves a wallet through loyalty's card refund, which applies the rule for prepaid cards.

WeChat Pay and Alipay come last. Their parts are written pending, each with its own ``out_refund_no``, and
sent to the gateway once the refund is committed (``gateway_tenders.refund_parts_send``, outside any
transaction: payments reserves the amount on its payment row and asks the provider). The refund itself is
decided and counted at once (the bill's refunded total, commission and stock follow it); each gateway part
carries the gateway's outcome (pending, succeeded, or failed with its reason, for a person to settle).

Everything happens in one transaction under the bill's lock: a refusal anywhere (a voided course card,
a short points lot) leaves every ledger as it was. An idempotency key names each refund.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.core.models import User
from apps.core.money import MAX_AMOUNT
from apps.core.services import audit_record
from apps.crm.models import PurchaseLine, PurchaseSource
from apps.crm.services.clients import purchases_record
from apps.loyalty.models import CourseRedemption, PointsEntry, PointsEntryKind, WalletEntry
from apps.loyalty.services.coupons import coupon_redeem_reverse
from apps.loyalty.services.courses import course_card_void, course_session_reverse
from apps.loyalty.services.points import points_earn_reverse, points_redeem_reverse
from apps.loyalty.services.wallets import wallet_debit_reverse
from apps.pos.errors import PosError, pos_error
from apps.pos.models import (
    Bill,
    BillCoupon,
    BillLine,
    BillStatus,
    LineKind,
    Refund,
    RefundLine,
    RefundStatus,
    RefundTender,
    Tender,
    TenderMethod,
    TenderStatus,
)
from apps.pos.services.bills import _pending_tenders, bill_locked, key_checked, require, text, void_written, whole
from apps.pos.services.checkout import GATEWAYS
from apps.pos.services.gateway_tenders import refund_parts_send
from apps.pos.signals import bill_refunded
from apps.scheduling.models import DepositMethod

# Where money goes back after the sessions of the refunded units, in this order.
REFUND_ORDER = (
    TenderMethod.STORED_VALUE,
    TenderMethod.DEPOSIT,
    TenderMethod.POINTS,
    TenderMethod.CASH,
    TenderMethod.WECHAT,
    TenderMethod.ALIPAY,
)


@dataclass(frozen=True)
class RefundLineRequest:
    """``quantity`` more units of ``line`` to refund."""

    line: BillLine
    quantity: int


def units_refund_amount(line: BillLine, quantity: int) -> int:
    """The money ``quantity`` more units of ``line`` give back: their share of the line's amount counted
    cumulatively (so refunding every unit gives back the amount exactly), never above what is left of it."""
    before = line.amount * line.refunded_quantity // line.quantity
    after = line.amount * (line.refunded_quantity + quantity) // line.quantity
    return min(after - before, line.amount - line.refunded_amount)


def _spread(amount: int, room: dict[int, int], order: list[int]) -> dict[int, int]:
    """``amount`` over the keys of ``room`` in proportion to their room, the largest remainders taking the
    odd fen (in ``order`` on a tie); the caller made sure the room is enough."""
    total = sum(room.values())
    parts = {pk: amount * room[pk] // total for pk in room}
    left = amount - sum(parts.values())
    ranked = sorted(room, key=lambda pk: (-(amount * room[pk] % total), order.index(pk)))
    for pk in ranked[:left]:
        parts[pk] += 1
    return parts


@dataclass
class _Plan:
    line_amounts: dict[int, tuple[int, int]]  # bill line -> (quantity, amount)
    sessions_back: list[Tender]
    money_parts: dict[int, int]  # tender -> amount


def _unrefunded_sessions(tenders: list[Tender]) -> dict[int, list[Tender]]:
    by_line: dict[int, list[Tender]] = {}
    for tender in tenders:
        if tender.method == TenderMethod.COURSE_CARD and tender.refunded_amount == 0 and tender.bill_line_id:
            by_line.setdefault(tender.bill_line_id, []).append(tender)
    return by_line


def _card_line(line: BillLine) -> bool:
    """A package line whose services were issued as a card: refunded whole, by units, voiding the card."""
    return line.kind == LineKind.PACKAGE and line.course_card_id is not None


def _plan_lines(
    requests: Sequence[RefundLineRequest], lines: dict[int, BillLine], sessions: dict[int, list[Tender]]
) -> tuple[dict[int, tuple[int, int]], list[Tender]]:
    amounts: dict[int, tuple[int, int]] = {}
    back: list[Tender] = []
    for request in requests:
        line = lines.get(request.line.pk)
        if line is None or line.pk in amounts:
            raise pos_error(PosError.LINE_NOT_ON_BILL, field="lines")
        if line.kind == LineKind.TOP_UP:
            raise pos_error(PosError.REFUND_TOP_UP)
        if not whole(request.quantity, low=1, high=line.quantity - line.refunded_quantity):
            raise pos_error(PosError.REFUND_TOO_LARGE, field="lines")
        if _card_line(line) and request.quantity != line.quantity - line.refunded_quantity:
            raise pos_error(PosError.REFUND_PACKAGE_WHOLE)
        amount = units_refund_amount(line, request.quantity)
        returned = sessions.get(line.pk, [])[: request.quantity]
        if sum(t.amount for t in returned) > amount:
            raise pos_error(PosError.REFUND_NOT_ALLOCATABLE)
        back.extend(returned)
        amounts[line.pk] = (request.quantity, amount)
    return amounts, back


def _plan_amount(amount: int, lines: list[BillLine], sessions: dict[int, list[Tender]]) -> dict[int, tuple[int, int]]:
    """An amount without lines is spread over the lines that can give money back (not top-ups, not course
    cards or packages whose services are on a card, not what sessions paid), in proportion to what is left
    of each."""
    room = {}
    for line in lines:
        if line.kind in (LineKind.TOP_UP, LineKind.COURSE_CARD) or _card_line(line):
            continue
        left = line.amount - line.refunded_amount - sum(t.amount for t in sessions.get(line.pk, []))
        if left > 0:
            room[line.pk] = left
    if amount > sum(room.values()):
        raise pos_error(PosError.REFUND_TOO_LARGE)
    parts = _spread(amount, room, [line.pk for line in lines if line.pk in room])
    return {pk: (0, part) for pk, part in parts.items() if part}


def _money_parts(money: int, tenders: list[Tender]) -> dict[int, int]:
    candidates = sorted(
        (t for t in tenders if t.method != TenderMethod.COURSE_CARD),
        key=lambda t: (REFUND_ORDER.index(TenderMethod(t.method)), t.pk),
    )
    parts: dict[int, int] = {}
    for tender in candidates:
        if money <= 0:
            break
        left = tender.amount - tender.refunded_amount
        if left <= 0:
            continue
        if tender.method == TenderMethod.POINTS:
            if tender.refunded_amount == 0 and money >= tender.amount:
                parts[tender.pk] = tender.amount
                money -= tender.amount
            continue
        take = min(left, money)
        parts[tender.pk] = take
        money -= take
    if money > 0:
        raise pos_error(PosError.REFUND_NOT_ALLOCATABLE)
    return parts


def _ledger_key(tender: Tender) -> str:
    """The key the tender's payment was written under in loyalty's ledgers (see ``checkout._take``)."""
    return f"bill:{tender.idempotency_key}"


def _give_back(bill: Bill, refund: Refund, tender: Tender, amount: int, acting_user: User | None) -> None:
    key = f"refund:{refund.pk}:{tender.pk}"
    reference = f"bill:{bill.pk}"
    if tender.method == TenderMethod.STORED_VALUE:
        payment = WalletEntry.objects.get(idempotency_key=_ledger_key(tender))
        wallet_debit_reverse(
            payment=payment, amount=amount, idempotency_key=key, reference=reference, acting_user=acting_user
        )
    elif tender.method == TenderMethod.DEPOSIT:
        # Back where the deposit came from: to stored value when it was taken from there; a deposit paid at
        # the desk is given back in cash, which the refund records.
        deposit = tender.deposit
        assert deposit is not None
        if deposit.method == DepositMethod.STORED_VALUE:
            wallet_debit_reverse(
                payment=WalletEntry.objects.get(idempotency_key=deposit.wallet_reference),
                amount=amount,
                idempotency_key=key,
                reference=reference,
                acting_user=acting_user,
            )
    elif tender.method == TenderMethod.POINTS:
        redemption = PointsEntry.objects.get(idempotency_key=_ledger_key(tender))
        points_redeem_reverse(entry=redemption, idempotency_key=key, acting_user=acting_user, reference=reference)
    elif tender.method == TenderMethod.COURSE_CARD:
        session = CourseRedemption.objects.get(idempotency_key=_ledger_key(tender))
        course_session_reverse(redemption=session, idempotency_key=key, acting_user=acting_user, reference=reference)
    # WeChat Pay / Alipay: the part is written pending and sent to the gateway once the refund is committed
    # (``gateway_tenders.refund_parts_send``): payments reserves and calls the provider in its own transaction.
    # Cash: the refund is the record of the money paid out of the till.


def _points_taken_back(bill: Bill, refund: Refund) -> None:
    """Points earned on the bill go back in proportion to what is refunded of what was paid (all of them
    once the whole bill is refunded), never below what is left of their lot."""
    earning = PointsEntry.objects.filter(idempotency_key=f"bill:{bill.pk}:earn").first()
    if earning is None or not bill.paid_total:
        return
    taken = -(
        PointsEntry.objects.filter(reverses=earning, kind=PointsEntryKind.EARN_REVERSAL).aggregate(
            total=Sum("points", default=0)
        )["total"]
    )
    due = earning.points * bill.refunded_total // bill.paid_total - taken
    if due > 0:
        points_earn_reverse(
            entry=earning, idempotency_key=f"refund:{refund.pk}:earn", points=due, reference=f"bill:{bill.pk}"
        )


def _refund_created(bill: Bill, *, amount: int, reason: str, key: str, acting_user: User | None) -> Refund:
    return Refund.objects.create(
        bill=bill,
        amount=amount,
        reason=reason,
        status=RefundStatus.SUCCEEDED,
        idempotency_key=key,
        created_by=acting_user if acting_user is not None and acting_user.pk else None,
    )


def _tenders_given_back(
    bill: Bill, refund: Refund, parts: dict[int, int], by_tender: dict[int, Tender], acting_user: User | None
) -> list[RefundTender]:
    """Each tender's part of ``refund`` written and given back (see the module's docstring): the gateway
    parts pending, sent once the refund is committed; the tenders' refunded amounts raised."""
    to_gateway = [pk for pk in parts if by_tender[pk].method in GATEWAYS]
    written = RefundTender.objects.bulk_create(
        [
            RefundTender(
                refund=refund,
                tender=by_tender[pk],
                amount=part,
                status=RefundStatus.PENDING if pk in to_gateway else RefundStatus.SUCCEEDED,
                out_refund_no=f"refund{refund.pk}t{pk}" if pk in to_gateway else None,
            )
            for pk, part in parts.items()
        ]
    )
    if to_gateway:
        transaction.on_commit(partial(refund_parts_send, refund_pk=refund.pk))
    for pk, part in parts.items():
        _give_back(bill, refund, by_tender[pk], part, acting_user)
        by_tender[pk].refunded_amount += part
    Tender.objects.bulk_update([by_tender[pk] for pk in parts], ["refunded_amount"])
    return written


@transaction.atomic
def bill_refund(
    *,
    bill: Bill,
    reason: str,
    idempotency_key: str,
    acting_user: User | None,
    lines: Sequence[RefundLineRequest] = (),
    amount: int | None = None,
) -> Refund:
    """Refund a paid bill (``issue_refunds``, with a reason, audited): ``lines`` (units of lines) or an
    ``amount`` spread over the lines. Refused, with nothing written, above what is left to refund, for a
    top-up, for a course card whose sessions were used, or when the money cannot go back to the tenders
    (points come back whole). The rules of the module docstring say where the money goes. A replay of
    ``idempotency_key`` returns the first refund."""
    require(acting_user, "issue_refunds")
    reason = text(reason, field="reason", max_length=200, required=True)
    key = f"{bill.pk}:{key_checked(idempotency_key)}"
    earlier = Refund.objects.filter(idempotency_key=key).first()
    if earlier is not None:
        return earlier
    if bool(lines) == (amount is not None):
        raise pos_error(PosError.REFUND_LINES_OR_AMOUNT)
    if amount is not None and not whole(amount, low=1, high=MAX_AMOUNT):
        raise pos_error(PosError.INVALID_AMOUNT)
    locked = bill_locked(bill.pk)
    if locked.status not in (BillStatus.PAID, BillStatus.REFUNDED):
        raise pos_error(PosError.REFUND_NOT_PAID)
    bill_lines = list(BillLine.objects.filter(bill=locked).select_related("course_card").order_by("position", "id"))
    by_pk = {line.pk: line for line in bill_lines}
    tenders = list(
        Tender.objects.filter(bill=locked, status=TenderStatus.SUCCEEDED).select_related("deposit").order_by("id")
    )
    sessions = _unrefunded_sessions(tenders)
    if lines:
        line_amounts, sessions_back = _plan_lines(lines, by_pk, sessions)
    else:
        assert amount is not None
        line_amounts, sessions_back = _plan_amount(amount, bill_lines, sessions), []
    total = sum(part for _quantity, part in line_amounts.values())
    if total <= 0 or total > locked.paid_total - locked.refunded_total:
        raise pos_error(PosError.REFUND_TOO_LARGE)
    money = total - sum(t.amount for t in sessions_back)
    # Money first, sessions after: the order does not matter (one transaction), the result does not change.
    parts = _money_parts(money, tenders) | {t.pk: t.amount for t in sessions_back}
    for pk, (_quantity, _part) in line_amounts.items():
        line = by_pk[pk]
        if line.course_card is not None:  # a course card sold, or a package's card of its services
            used = CourseRedemption.objects.filter(card=line.course_card, sessions=1, reversal__isnull=True).exists()
            if used:
                raise pos_error(PosError.REFUND_COURSE_CARD_USED)

    refund = _refund_created(locked, amount=total, reason=reason, key=key, acting_user=acting_user)
    refund_lines = RefundLine.objects.bulk_create(
        [
            RefundLine(refund=refund, bill_line=by_pk[pk], quantity=quantity, amount=part)
            for pk, (quantity, part) in line_amounts.items()
        ]
    )
    refund_tenders = _tenders_given_back(locked, refund, parts, {t.pk: t for t in tenders}, acting_user)
    changed = []
    for pk, (quantity, part) in line_amounts.items():
        line = by_pk[pk]
        line.refunded_quantity += quantity
        line.refunded_amount += part
        changed.append(line)
        if line.course_card is not None:
            course_card_void(card=line.course_card, reason=reason, acting_user=acting_user)
    BillLine.objects.bulk_update(changed, ["refunded_quantity", "refunded_amount"])
    locked.refunded_total += total
    fields = ["refunded_total", "updated_at"]
    if locked.refunded_total == locked.paid_total:
        locked.status = BillStatus.REFUNDED
        fields.append("status")
    locked.save(update_fields=fields)
    _points_taken_back(locked, refund)
    if locked.status == BillStatus.REFUNDED:
        for applied in BillCoupon.objects.filter(bill=locked).select_related("coupon"):
            coupon_redeem_reverse(coupon=applied.coupon, acting_user=acting_user, reference=f"bill:{locked.pk}")
    _history(locked, refund, refund_lines)
    audit_record(
        action="pos.bill_refunded",
        actor=acting_user,
        target=locked,
        data={
            "number": locked.number,
            "refund": refund.pk,
            "amount": total,
            "reason": reason,
            "lines": {str(pk): part for pk, (_quantity, part) in line_amounts.items()},
            "tenders": {str(pk): part for pk, part in parts.items()},
        },
    )
    bill_refunded.send(
        sender=Refund, bill=locked, refund=refund, lines=refund_lines, tenders=refund_tenders, acting_user=acting_user
    )
    return refund


def _history(bill: Bill, refund: Refund, refund_lines: list[RefundLine]) -> None:
    """The refund in the clients' histories: one negative line per refunded bill line."""
    purchases = []
    for refund_line in refund_lines:
        line = refund_line.bill_line
        holder_id = line.guest_id or bill.client_id
        if holder_id is None or not refund_line.amount:
            continue
        purchases.append(
            PurchaseLine(
                client_id=holder_id,
                occurred_at=timezone.now(),
                item_name=line.name,
                amount=-refund_line.amount,
                kind=line.kind,
                quantity=max(1, refund_line.quantity),
                tender="",
                location_id=bill.location_id,
                visit_reference=f"bill:{bill.pk}",
                reference=f"refund:{refund.pk}:line:{line.pk}",
                source=PurchaseSource.TILL,
                note=refund.reason,
            )
        )
    if purchases:
        purchases_record(lines=purchases)


@transaction.atomic
def bill_void(*, bill: Bill, reason: str, acting_user: User | None) -> Bill:
    """Void an open bill (``issue_refunds``), with a reason, audited; the appointment may then be checked
    out again. Voiding a voided bill changes nothing; a paid bill is refunded instead.

    A payment that stopped half-way (stored value taken, then the client's WeChat Pay refused and the
    client left) has left money on the open bill: each tender's part goes back first, whole, as one
    refund with no lines (stored value, a deposit and points to their ledgers, cash paid out of the till,
    WeChat Pay and Alipay sent back through the gateway). Nothing was sold, so no stock, commission, points
    earned or history move; the sales reports leave a voided bill's refund out, the drawer counts it.
    Refused while a gateway payment is waiting for the client."""
    require(acting_user, "issue_refunds")
    reason = text(reason, field="reason", max_length=200, required=True)
    locked = bill_locked(bill.pk)
    if locked.status == BillStatus.VOIDED:
        return locked
    if locked.status != BillStatus.OPEN:
        raise pos_error(PosError.BILL_NOT_OPEN)
    if _pending_tenders(locked):
        raise pos_error(PosError.GATEWAY_PAYMENT_IN_PROGRESS)
    given_back: dict[int, int] = {}
    if locked.paid_total:
        tenders = list(
            Tender.objects.filter(bill=locked, status=TenderStatus.SUCCEEDED).select_related("deposit").order_by("id")
        )
        given_back = {t.pk: t.amount - t.refunded_amount for t in tenders if t.amount > t.refunded_amount}
        refund = _refund_created(
            locked, amount=locked.paid_total, reason=reason, key=f"{locked.pk}:void", acting_user=acting_user
        )
        _tenders_given_back(locked, refund, given_back, {t.pk: t for t in tenders}, acting_user)
        locked.refunded_total = locked.paid_total
    void_written(locked, reason=reason, acting_user=acting_user, given_back=given_back)
    return locked
