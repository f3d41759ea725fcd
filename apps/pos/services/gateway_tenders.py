"""WeChat Pay and Alipay at the till (POS-2): a payment with one gateway tender, by the client's payment
code (付款码, scanned by the cashier) or by a QR code the client scans.

The gateway is asked outside any transaction (``apps.payments`` commits its own row first), so a payment
with a gateway tender is taken in two steps:

1. Under the bill's lock, in one transaction: every check of ``bill_pay`` (tenders enabled, the amounts add
   up to what is due, the client's balances), the salon's merchant account switched on, then the other
   tenders of the payment (stored value, points, cash…) are taken and the gateway tender is written
   ``pending`` with a unique ``out_trade_no``. Committed.
2. Outside any transaction: the gateway is asked to charge. Paid → the tender is settled and the bill
   completes; refused → the tender fails with the gateway's reason; still waiting (the client is
   confirming, or no answer) → the tender stays pending and is settled later by the gateway's notice, a
   query or the reconciliation, all through ``gateway_payment_settled`` (``apps.pos.receivers_gateway``).

So a refused gateway tender leaves the bill open with the other tenders of the payment taken and the
remainder due (never paid twice: the remainder is a new payment). While a gateway tender is pending the
bill takes no other payment. Replaying the idempotency key returns the first payment and never charges
again (the gateway payment is named by the tender's ``out_trade_no``).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from apps.core.errors import ServiceError
from apps.core.models import User
from apps.core.services import audit_record
from apps.payments.gateways import module_for
from apps.payments.models import GatewayPayment, MerchantAccount, PaymentKind, PaymentStatus
from apps.payments.models import RefundStatus as GatewayRefundStatus
from apps.payments.services import (
    gateway_charge_code,
    gateway_charge_qr,
    gateway_payment_cancel,
    gateway_payment_query,
    gateway_refund,
)
from apps.pos.errors import PosError, pos_error
from apps.pos.models import (
    Bill,
    BillStatus,
    CashMovementKind,
    RefundStatus,
    RefundTender,
    Tender,
    TenderMethod,
    TenderStatus,
)
from apps.pos.selectors.bills import bill_lines
from apps.pos.selectors.cash import cash_session_open_at
from apps.pos.services.bills import key_checked, require
from apps.pos.services.cash import cash_movement_record
from apps.pos.services.checkout import (
    GATEWAYS,
    TenderRequest,
    _locked_for_payment,
    _not_enabled,
    _replayed,
    _settle,
    _shape_checked,
    _take,
    bill_tender_fail,
    bill_tender_settle,
    plan_checked,
)

logger = logging.getLogger(__name__)


@dataclass
class GatewayTenderResult:
    """What a payment with a gateway tender did: the bill after it, the tenders of the payment (the
    gateway one last), the gateway tender and the gateway's payment (None when the gateway refused the
    request before writing it)."""

    bill: Bill
    tenders: list[Tender]
    tender: Tender
    payment: GatewayPayment | None
    is_replay: bool = False

    @property
    def status(self) -> str:
        return str(self.tender.status)

    @property
    def code_url(self) -> str:
        return self.payment.code_url if self.payment is not None else ""


def merchant_ready(provider: str) -> bool:
    account = MerchantAccount.objects.filter(provider=provider).first()
    return account is not None and account.is_enabled and account.is_complete


def _description(bill: Bill) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Bill %(number)s") % {"number": bill.number}


def _open(
    *, pk: int, requests: list[TenderRequest], key: str, acting_user: User | None, code: str | None
) -> tuple[Bill, list[Tender], bool]:
    """Step 1, under the bill's lock: the checks, the other tenders taken, the gateway tender written
    pending. Returns the bill, the tenders (gateway last) and whether this is a replay."""
    with transaction.atomic():
        locked, accepts, _pending = _locked_for_payment(pk)
        # Read again after the lock: the locking statement's subquery sees the tenders committed before it
        # started, not one a concurrent payment wrote while this one waited for the lock.
        pending = Tender.objects.filter(bill_id=pk, status=TenderStatus.PENDING).exists()
        if locked.status != BillStatus.OPEN or locked.paid_total or pending:
            earlier = _replayed(locked, key, requests)
            if earlier is not None:
                return locked, earlier, True
            if locked.status == BillStatus.PAID:
                raise pos_error(PosError.BILL_ALREADY_PAID)
            if locked.status != BillStatus.OPEN:
                raise pos_error(PosError.BILL_NOT_OPEN)
            if pending:
                raise pos_error(PosError.GATEWAY_PAYMENT_IN_PROGRESS)
        for request in requests:
            if not accepts[request.method]:
                raise pos_error(PosError.TENDER_NOT_ENABLED, message=_not_enabled(request.method))
        provider = requests[-1].method
        if not merchant_ready(provider):
            raise pos_error(PosError.GATEWAY_ACCOUNT_NOT_READY)
        if code is not None:  # a payment code, checked before anything is written or sent
            if not code:
                raise pos_error(PosError.GATEWAY_CODE_REQUIRED)
            if not module_for(provider).auth_code_valid(code):
                raise pos_error(PosError.GATEWAY_CODE_INVALID)
        lines = bill_lines(locked)
        if not lines:
            raise pos_error(PosError.BILL_EMPTY)
        planned = plan_checked(locked, requests, lines, due=locked.total - locked.paid_total)
        written = _take(locked, planned[:-1], key, acting_user) if len(planned) > 1 else []
        if written:
            _settle(locked, written, acting_user)
        gateway = Tender(
            bill=locked,
            method=provider,
            amount=planned[-1].amount,
            status=TenderStatus.PENDING,
            out_trade_no=uuid.uuid4().hex,
            idempotency_key=f"{locked.pk}:{key}:{len(planned)}",
            created_by=acting_user if acting_user is not None and acting_user.pk else None,
        )
        try:
            with transaction.atomic():
                gateway.save(force_insert=True)
        except IntegrityError as exc:
            raise pos_error(PosError.KEY_REUSED) from exc
        return locked, [*written, gateway], False


def _apply(tender: Tender, payment: GatewayPayment) -> None:
    """The gateway's outcome on the tender (the receiver of ``gateway_payment_settled`` has usually done it
    already: both are idempotent)."""
    if payment.status == PaymentStatus.SUCCEEDED:
        bill_tender_settle(tender=tender, provider_transaction_id=payment.provider_transaction_id or "")
    elif payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELLED):
        bill_tender_fail(tender=tender, failure_code=payment.error_code, failure_message=payment.error_message)


@dataclass
class GatewayPaymentBegun:
    """Step 1 of a payment with a gateway tender, done (``gateway_payment_begin``): the bill, the tenders
    written (the gateway one last, pending unless this is a replay of a payment that ended) and what step 2
    needs to ask the gateway."""

    bill: Bill
    tenders: list[Tender]
    provider: str
    auth_code: str
    qr: bool
    is_replay: bool


def gateway_payment_begin(
    *,
    bill: Bill,
    tenders: Sequence[TenderRequest],
    idempotency_key: str,
    acting_user: User | None,
    auth_code: str = "",
    qr: bool = False,
) -> GatewayPaymentBegun:
    """Step 1 of ``bill_pay_gateway`` (``take_payments``): every check, the other tenders taken and the
    gateway tender written pending, in one transaction. It may run inside the caller's transaction (a
    top-up opens its bill in the same one, so a refusal leaves nothing written); step 2
    (``gateway_payment_send``) must run after that transaction commits."""
    require(acting_user, "take_payments")
    key = key_checked(idempotency_key)
    requests = _shape_checked(tenders)
    gateways = [r for r in requests if r.method in GATEWAYS]
    if len(gateways) != 1:
        raise pos_error(PosError.GATEWAY_ONE_PER_PAYMENT)
    ordered = [r for r in requests if r.method not in GATEWAYS] + gateways  # the gateway tender is taken last
    code = "".join((auth_code or "").split())
    locked, written, is_replay = _open(
        pk=bill.pk, requests=ordered, key=key, acting_user=acting_user, code=None if qr else code
    )
    return GatewayPaymentBegun(
        bill=locked, tenders=written, provider=gateways[0].method, auth_code=code, qr=qr, is_replay=is_replay
    )


def gateway_payment_send(begun: GatewayPaymentBegun, *, notify_url: str = "") -> GatewayTenderResult:
    """Step 2 of ``bill_pay_gateway``, outside any transaction: the gateway is asked to charge the pending
    tender (a replay's pending payment is queried instead) and its answer is applied to the tender."""
    locked, written = begun.bill, begun.tenders
    tender = written[-1]
    payment = GatewayPayment.objects.filter(out_trade_no=tender.out_trade_no).first()
    if tender.status == TenderStatus.PENDING:
        try:
            if payment is not None:
                if payment.status == PaymentStatus.PENDING and payment.kind != PaymentKind.QR:
                    payment = gateway_payment_query(payment=payment)
            elif begun.qr:
                payment = gateway_charge_qr(
                    provider=begun.provider,
                    amount=tender.amount,
                    out_trade_no=str(tender.out_trade_no),
                    description=_description(locked),
                    reference=f"bill:{locked.pk}",
                    notify_url=notify_url,
                )
            else:
                payment = gateway_charge_code(
                    provider=begun.provider,
                    amount=tender.amount,
                    out_trade_no=str(tender.out_trade_no),
                    auth_code=begun.auth_code,
                    description=_description(locked),
                    reference=f"bill:{locked.pk}",
                )
        except ServiceError as exc:
            if payment is None and not GatewayPayment.objects.filter(out_trade_no=tender.out_trade_no).exists():
                # refused before anything was sent to the gateway: no money moved
                bill_tender_fail(tender=tender, failure_code=str(exc.code.value), failure_message=str(exc.message))
            raise
        _apply(tender, payment)
    locked.refresh_from_db()
    for row in written:
        row.refresh_from_db()
    return GatewayTenderResult(bill=locked, tenders=written, tender=tender, payment=payment, is_replay=begun.is_replay)


def bill_pay_gateway(
    *,
    bill: Bill,
    tenders: Sequence[TenderRequest],
    idempotency_key: str,
    acting_user: User | None,
    auth_code: str = "",
    qr: bool = False,
    notify_url: str = "",
) -> GatewayTenderResult:
    """Pay what is due with one WeChat Pay or Alipay tender, alone or with other tenders (``take_payments``).
    With ``auth_code`` the client's payment code is charged; with ``qr`` a QR order is made (its
    ``code_url`` is on the result) and the client pays it later. Must be called outside any transaction.
    Refusals before the gateway is asked change nothing; see the module's text for what happens after."""
    begun = gateway_payment_begin(
        bill=bill,
        tenders=tenders,
        idempotency_key=idempotency_key,
        acting_user=acting_user,
        auth_code=auth_code,
        qr=qr,
    )
    return gateway_payment_send(begun, notify_url=notify_url)


def gateway_tender_refresh(*, tender: Tender) -> Tender:
    """Ask the gateway about a pending tender (the till's page polls the bill; a cashier may ask). Outside
    any transaction."""
    payment = GatewayPayment.objects.filter(out_trade_no=tender.out_trade_no).first()
    if payment is None or tender.status != TenderStatus.PENDING:
        return tender
    if payment.status == PaymentStatus.PENDING:
        payment = gateway_payment_query(payment=payment)
    _apply(tender, payment)
    tender.refresh_from_db()
    return tender


# While the till's page waits, the gateway is asked at most this often per payment (the first time this long
# after the payment was sent): its notice usually settles the tender first.
POLL_QUERY_EVERY = datetime.timedelta(seconds=5)


def gateway_tender_poll(*, tender: Tender, now: datetime.datetime | None = None) -> Tender:
    """What the waiting page's poll calls: when no notice has settled the pending tender, ask the gateway,
    no more often than ``POLL_QUERY_EVERY`` (a lost or late notice does not keep the cashier waiting for
    the per-minute reconciliation). Outside any transaction."""
    if tender.method not in GATEWAYS or tender.status != TenderStatus.PENDING or not tender.out_trade_no:
        return tender
    payment = (
        GatewayPayment.objects.filter(out_trade_no=tender.out_trade_no)
        .only("status", "created_at", "last_queried_at")
        .first()
    )
    if payment is None:
        return tender
    last_asked = payment.last_queried_at or payment.created_at
    if payment.status == PaymentStatus.PENDING and (now or timezone.now()) - last_asked < POLL_QUERY_EVERY:
        return tender
    return gateway_tender_refresh(tender=tender)


def gateway_tender_cancel(*, tender: Tender, acting_user: User | None) -> Tender:
    """The cashier abandons a pending gateway tender (``take_payments``): the gateway payment is cancelled
    (a code payment reversed, a QR order closed) and the tender fails; if the client paid meanwhile, the
    tender is settled instead. Outside any transaction."""
    require(acting_user, "take_payments")
    if tender.method not in GATEWAYS or tender.status != TenderStatus.PENDING:
        raise pos_error(PosError.TENDER_NOT_PENDING)
    payment = GatewayPayment.objects.filter(out_trade_no=tender.out_trade_no).first()
    if payment is None:
        bill_tender_fail(tender=tender, failure_code="cancelled", failure_message=gettext("Cancelled at the till."))
    else:
        if payment.status == PaymentStatus.PENDING:
            payment = gateway_payment_cancel(payment=payment)
        _apply(tender, payment)
    tender.refresh_from_db()
    return tender


# --- refunds ----------------------------------------------------------------------------------------------


def refund_parts_send(*, refund_pk: int) -> list[RefundTender]:
    """Send the pending WeChat Pay / Alipay parts of a committed refund to the gateway (run after the
    refund's commit; safe to run again: each part's ``out_refund_no`` names it at the gateway, which never
    refunds one number twice). A part the gateway refunded is succeeded; one it refused or that ended
    without paying (WeChat Pay CHANGE / REFUNDCLOSE, a refused certificate) is failed with the reason (the
    money stays with the salon: a person gives it back another way); one not answered or still under way
    stays pending and is carried forward (a WeChat Pay refund is asked about with a refund query) by
    payments' reconciliation and by running this again; a refund notification settles it through
    ``gateway_refund_settled``. The refund itself was counted when it was issued; its parts say what the
    gateway did."""
    parts = list(
        RefundTender.objects.filter(refund_id=refund_pk, status=RefundStatus.PENDING, out_refund_no__isnull=False)
        .select_related("tender", "refund")
        .order_by("id")
    )
    for part in parts:
        payment = GatewayPayment.objects.filter(out_trade_no=part.tender.out_trade_no).first()
        status, message = RefundStatus.PENDING, ""
        if payment is None:
            status, message = RefundStatus.FAILED, gettext("The gateway has no record of this payment.")
        else:
            try:
                answer = gateway_refund(
                    payment=payment,
                    amount=part.amount,
                    out_refund_no=str(part.out_refund_no),
                    reason=part.refund.reason[:80],
                )
            except ServiceError as exc:
                status, message = RefundStatus.FAILED, str(exc.message)
            else:
                if answer.status == GatewayRefundStatus.SUCCEEDED:
                    status = RefundStatus.SUCCEEDED
                elif answer.status == GatewayRefundStatus.FAILED:
                    status, message = RefundStatus.FAILED, answer.error_message or answer.error_code
        if status != RefundStatus.PENDING:
            RefundTender.objects.filter(pk=part.pk, status=RefundStatus.PENDING).update(
                status=status, failure_message=message[:255]
            )
    return list(RefundTender.objects.filter(refund_id=refund_pk).order_by("id"))


def _failed_part(part: RefundTender, acting_user: User | None) -> RefundTender:
    """The part locked, when it is a WeChat Pay / Alipay part the gateway refused and nobody settled yet."""
    require(acting_user, "issue_refunds")
    parts = RefundTender.objects.select_for_update(of=("self",)).select_related("tender", "refund__bill__location")
    locked = parts.get(pk=part.pk)
    settled = locked.given_in_cash_at is not None
    if locked.status != RefundStatus.FAILED or settled or locked.tender.method not in GATEWAYS:
        raise pos_error(PosError.REFUND_PART_NOT_FAILED)
    return locked


@transaction.atomic
def refund_part_resend(*, part: RefundTender, acting_user: User | None) -> RefundTender:
    """Send a refused WeChat Pay / Alipay part to the gateway again (``issue_refunds``, audited), under a
    new refund number (a gateway answers a number it refused with the same refusal): it is pending until
    the gateway answers, as when it was first sent after the refund's commit. The refusal gave the
    reserved amount back to the payment, so the new number may take it again."""
    locked = _failed_part(part, acting_user)
    locked.attempts += 1
    locked.out_refund_no = f"refund{locked.refund_id}t{locked.tender_id}n{locked.attempts}"
    locked.status = RefundStatus.PENDING
    failure = locked.failure_message
    locked.failure_message = ""
    locked.save(update_fields=["attempts", "out_refund_no", "status", "failure_message"])
    audit_record(
        action="pos.refund_part_resent",
        actor=acting_user,
        target=locked.refund.bill,
        data={"refund": locked.refund_id, "part": locked.pk, "amount": locked.amount, "failure": failure},
    )
    transaction.on_commit(partial(refund_parts_send, refund_pk=locked.refund_id))
    return locked


@transaction.atomic
def refund_part_given_in_cash(*, part: RefundTender, acting_user: User) -> RefundTender:
    """Record that a refused WeChat Pay / Alipay part was given back to the client in cash
    (``issue_refunds``, audited): a pay-out of the bill location's open drawer, so the handover expects
    that much less cash (refused, with nothing written, when no drawer is open there or it holds less).
    The part stays failed at the gateway and is settled: it cannot be sent again."""
    locked = _failed_part(part, acting_user)
    bill = locked.refund.bill
    session = cash_session_open_at(bill.location)
    if session is None:
        raise pos_error(
            PosError.CASH_SESSION_REQUIRED,
            message=gettext("Open a cash session at this location before giving cash back."),
        )
    cash_movement_record(
        session=session,
        kind=CashMovementKind.PAY_OUT,
        amount=locked.amount,
        reason=gettext("Refund of bill %(number)s given back in cash (%(method)s refused it)")
        % {"number": bill.number, "method": TenderMethod(locked.tender.method).label},
        acting_user=acting_user,
        idempotency_key=f"refund-part-cash:{locked.pk}",
    )
    locked.given_in_cash_at = timezone.now()
    locked.given_in_cash_by = acting_user
    locked.save(update_fields=["given_in_cash_at", "given_in_cash_by"])
    audit_record(
        action="pos.refund_part_given_in_cash",
        actor=acting_user,
        target=bill,
        data={"refund": locked.refund_id, "part": locked.pk, "amount": locked.amount},
    )
    return locked


def gateway_refunds_sync(*, older_than_seconds: int = 60) -> int:
    """Carry forward the WeChat Pay / Alipay refund parts still pending (not answered, under way at WeChat
    Pay, or their commit-time send never ran) and record the outcome; returns how many refunds were looked
    at. Run every minute in each salon (``pos.gateway_refunds_sync``)."""
    since = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    refunds = list(
        RefundTender.objects.filter(
            status=RefundStatus.PENDING, out_refund_no__isnull=False, refund__created_at__lt=since
        )
        .values_list("refund_id", flat=True)
        .distinct()
        .order_by("refund_id")[:200]
    )
    for refund_pk in refunds:
        refund_parts_send(refund_pk=refund_pk)
    return len(refunds)


def stray_payment_give_back(*, payment_pk: int) -> None:
    """Give back in full a gateway payment that succeeded for a tender the bill does not count (run after
    the commit that recorded it; the refund number ``back-<payment>`` makes a repeat refund nothing more).
    A refusal is logged for a person."""
    payment = GatewayPayment.objects.get(pk=payment_pk)
    left = payment.amount - payment.refunded_amount
    if left <= 0:
        return
    try:
        gateway_refund(
            payment=payment, amount=left, out_refund_no=f"back-{payment.pk:06d}", reason=gettext("Paid twice")
        )
    except ServiceError as exc:
        logger.error("gateway payment %s could not be given back (%s)", payment.out_trade_no, exc.code)
