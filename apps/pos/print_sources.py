"""What the till lets ``POST /api/v1/print-jobs/`` print (edge's registry, filled from PosConfig.ready):
a paid bill's receipt (``bill``)."""

from __future__ import annotations

from typing import Any

from apps.edge.models import PrintJob
from apps.edge.registry import PrintSource, print_source_register
from apps.pos.models import Bill


def _bill_receipt(*, pk: int, **options: Any) -> PrintJob:
    from apps.pos.services.receipts import receipt_print

    bill = Bill.objects.select_related("location").filter(pk=pk).first()
    if bill is None:
        raise LookupError(pk)
    return receipt_print(bill=bill, **options)


def register() -> None:
    print_source_register(PrintSource("bill", "take_payments", queue=_bill_receipt))
