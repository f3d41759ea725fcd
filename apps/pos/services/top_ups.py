"""Stored-value top-ups sold over the counter (LOY-3, SPEC §4 ``POST /api/v1/clients/{id}/top-ups/``): a
one-line bill paid at once, so a top-up is in the day's takings, the client's history and the receipts
like any sale, and the salon's top-up rule adds its bonus when the bill is paid."""

from __future__ import annotations

import hashlib

from django.db import transaction

from apps.core.models import Location, User
from apps.crm.models import Client
from apps.pos.errors import PosError, pos_error
from apps.pos.models import Bill, BillStatus, TenderMethod
from apps.pos.services.bills import bill_line_add, bill_open, key_checked, require
from apps.pos.services.checkout import TenderRequest, bill_pay

# Stored value does not buy stored value, nor do points or sessions.
TOP_UP_METHODS = (TenderMethod.CASH, TenderMethod.WECHAT, TenderMethod.ALIPAY)


def till_location(user: User | None) -> Location | None:
    """Where a sale made without naming a location happens: the staff member's first location (by id),
    else the salon's first active one."""
    if user is not None and user.pk:
        mine = user.locations.filter(is_active=True).order_by("pk").first()
        if mine is not None:
            return mine
    return Location.objects.filter(is_active=True).order_by("pk").first()


@transaction.atomic
def top_up_sell(
    *,
    client: Client,
    amount: int,
    method: str,
    idempotency_key: str,
    acting_user: User | None,
    location: Location | None = None,
) -> Bill:
    """Sell ``amount`` of stored value to ``client`` paid by ``method`` (cash, or a payment gateway once
    connected): a bill with one top-up line, paid in the same transaction, which credits the wallet with
    the salon's top-up rule. A replay of ``idempotency_key`` returns the same bill and credits nothing."""
    require(acting_user, "take_payments")
    key = key_checked(idempotency_key)
    if method not in TOP_UP_METHODS:
        raise pos_error(PosError.TOP_UP_METHOD)
    bill_key = f"top-up:{hashlib.sha256(key.encode()).hexdigest()[:40]}"
    bill = bill_open(
        location=location or till_location(acting_user),
        client=client,
        acting_user=acting_user,
        idempotency_key=bill_key,
    )
    if bill.status != BillStatus.OPEN or bill.paid_total:
        return bill  # the replay of a sale made before
    bill_line_add(bill=bill, top_up_amount=amount, acting_user=acting_user)
    payment = bill_pay(
        bill=bill,
        tenders=[TenderRequest(method=method, amount=amount)],
        idempotency_key="top-up",
        acting_user=acting_user,
    )
    return payment.bill
