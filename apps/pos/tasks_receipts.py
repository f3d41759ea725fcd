"""Celery task of receipts (POS-3): the printing and e-receipt after a payment, in the worker rather than in
the request that took the payment. Registered by PosConfig.ready (autodiscovery only looks for
``<app>.tasks``)."""

from __future__ import annotations

from celery import shared_task

RECEIPT_AFTER_PAYMENT_TASK = "pos.receipt_after_payment"


@shared_task(name=RECEIPT_AFTER_PAYMENT_TASK, ignore_result=True)
def receipt_after_payment_task(bill_id: int) -> dict[str, object]:
    """Print (if the salon prints on payment) and send (if it sends e-receipts) a paid bill's receipt, each
    once however often this runs."""
    from apps.pos.services.receipts import receipt_after_payment

    return receipt_after_payment(bill_id=bill_id)
