"""Stored-value top-ups sold over the counter (LOY-3, SPEC §4 ``POST /api/v1/clients/{id}/top-ups/``): a
one-line bill paid at once, so a top-up is in the day's takings, the client's history and the receipts
like any sale, and the salon's top-up rule adds its bonus when the bill is paid.

Cash is taken with ``checkout.bill_pay`` in the transaction that opens the bill. WeChat Pay and Alipay go
through the till's gateway path (``gateway_tenders``): the bill, its line and the pending gateway tender are
written in one transaction (a refusal before the gateway is asked leaves nothing written), then the gateway
is asked outside it. The wallet is credited when the gateway tender settles (at once, or later by the
gateway's notice, a query or the reconciliation: ``bill_tender_settle`` completes the bill); a payment that
fails voids the top-up's bill (``checkout.bill_tender_fail``), so nothing is credited and no open bill is
left behind."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import transaction

from apps.core.models import Location, User
from apps.crm.models import Client
from apps.pos.errors import PosError, pos_error
from apps.pos.models import Bill, Tender, TenderMethod, TenderStatus
from apps.pos.services.bills import TOP_UP_SALE_KEY_PREFIX, bill_line_add, bill_open, key_checked, require
from apps.pos.services.checkout import GATEWAYS, TenderRequest, bill_pay
from apps.pos.services.gateway_tenders import GatewayTenderResult, gateway_payment_begin, gateway_payment_send

# Stored value does not buy stored value, nor do points or sessions.
TOP_UP_METHODS = (TenderMethod.CASH, TenderMethod.WECHAT, TenderMethod.ALIPAY)
# The key of the bill's one payment (the bill itself is named by the caller's key).
PAYMENT_KEY = "top-up"


@dataclass
class TopUpSale:
    """What ``top_up_sell`` did: the bill, and for WeChat Pay / Alipay what the gateway answered (its tender
    ``succeeded``, ``pending`` while the client confirms or a QR code waits to be scanned, or ``failed``)."""

    bill: Bill
    gateway: GatewayTenderResult | None = None

    @property
    def status(self) -> str:
        return self.gateway.status if self.gateway is not None else str(TenderStatus.SUCCEEDED)


def till_location(user: User | None) -> Location | None:
    """Where a sale made without naming a location happens: the staff member's first location (by id),
    else the salon's first active one."""
    if user is not None and user.pk:
        mine = user.locations.filter(is_active=True).order_by("pk").first()
        if mine is not None:
            return mine
    return Location.objects.filter(is_active=True).order_by("pk").first()


def top_up_sell(
    *,
    client: Client,
    amount: int,
    method: str,
    idempotency_key: str,
    acting_user: User | None,
    location: Location | None = None,
    auth_code: str = "",
    qr: bool = False,
    notify_url: str = "",
) -> TopUpSale:
    """Sell ``amount`` of stored value to ``client`` paid by ``method`` (``take_payments``): a bill with one
    top-up line, paid at once, which credits the wallet with the salon's top-up rule once paid.

    Cash is paid in the transaction that opens the bill. WeChat Pay / Alipay charge the client's payment
    code (``auth_code``) or make a QR code (``qr``; the gateway's notice goes to ``notify_url``) through
    ``gateway_tenders``: must be called outside any transaction. A replay of ``idempotency_key`` returns
    the first sale (a pending gateway payment is asked about again) and never charges or credits twice."""
    require(acting_user, "take_payments")
    key = key_checked(idempotency_key)
    if method not in TOP_UP_METHODS:
        raise pos_error(PosError.TOP_UP_METHOD)
    bill_key = f"{TOP_UP_SALE_KEY_PREFIX}{hashlib.sha256(key.encode()).hexdigest()[:40]}"
    with transaction.atomic():
        bill = bill_open(
            location=location or till_location(acting_user),
            client=client,
            acting_user=acting_user,
            idempotency_key=bill_key,
        )
        if getattr(bill, "opened_now", False):
            bill_line_add(bill=bill, top_up_amount=amount, acting_user=acting_user)
            if method not in GATEWAYS:
                payment = bill_pay(
                    bill=bill,
                    tenders=[TenderRequest(method=method, amount=amount)],
                    idempotency_key=PAYMENT_KEY,
                    acting_user=acting_user,
                )
                return TopUpSale(bill=payment.bill)
            request = TenderRequest(method=method, amount=amount)
        else:
            # The replay of a sale made before: its first payment is the answer, whatever this request says.
            earlier = (
                Tender.objects.filter(bill=bill, idempotency_key__startswith=f"{bill.pk}:{PAYMENT_KEY}:")
                .order_by("id")
                .last()
            )
            if earlier is None or earlier.method not in GATEWAYS:
                return TopUpSale(bill=bill)
            request = TenderRequest(method=earlier.method, amount=earlier.amount)
        begun = gateway_payment_begin(
            bill=bill,
            tenders=[request],
            idempotency_key=PAYMENT_KEY,
            acting_user=acting_user,
            auth_code=auth_code,
            qr=qr,
        )
    result = gateway_payment_send(begun, notify_url=notify_url)
    return TopUpSale(bill=result.bill, gateway=result)
