"""What the till lets ``POST /api/v1/print-jobs/`` print (edge's registry, filled from PosConfig.ready):
a paid bill's receipt (``bill``) and a cash session's handover report (``cash_session``)."""

from __future__ import annotations

from typing import Any

from apps.core.models import User
from apps.edge.models import PrintJob
from apps.edge.registry import PrintSource, print_source_register
from apps.pos.models import Bill, CashSession


def _bill_receipt(*, pk: int, **options: Any) -> PrintJob:
    from apps.pos.services.receipts import receipt_print

    bill = Bill.objects.select_related("location").filter(pk=pk).first()
    if bill is None:
        raise LookupError(pk)
    return receipt_print(bill=bill, **options)


def _handover(*, pk: int, **options: Any) -> PrintJob:
    from apps.pos.services.cash import cash_session_print

    session = CashSession.objects.select_related("location", "opened_by", "closed_by").filter(pk=pk).first()
    if session is None:
        raise LookupError(pk)
    return cash_session_print(session=session, **options)


def _may_see_session(pk: int, user: User) -> bool:
    from apps.pos.selectors.cash import cash_session_visible_to

    session = CashSession.objects.filter(pk=pk).first()
    return session is None or cash_session_visible_to(session, user)


def register() -> None:
    print_source_register(PrintSource("bill", "take_payments", queue=_bill_receipt))
    print_source_register(PrintSource("cash_session", "take_payments", queue=_handover, allowed=_may_see_session))
