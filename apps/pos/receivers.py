"""What a paid or refunded bill sets off in the other parts of the till and below it: commission, stock
(products sold, alone or in a package, and the materials the services used) and the receipt. A
package's services use no materials at the sale: they are sessions of the package card, used later.
Each receiver runs inside the bill's transaction (the signals are sent there), so a refusal, such as a
product the location has run out of while the salon forbids negative stock, rolls the whole payment back
with nothing written; and each is idempotent by the bill's or the refund's key, so a replayed payment or
refund changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from apps.catalog.models import Product
from apps.inventory.services import (
    stock_consume_for_services,
    stock_consume_for_services_reverse,
    stock_sale_record,
    stock_sale_reverse,
)
from apps.pos.models import Bill, LineKind, Refund
from apps.pos.services.commission import commission_record_for_bill, commission_reverse_for_refund
from apps.pos.services.receipts import receipt_on_bill_paid
from apps.pos.signals import bill_paid, bill_refunded


def _products_of(units: list[tuple[Any, int]]) -> list[tuple[Product, int]]:
    """(product, pieces) for (bill line, units): a product line's product, and each product a package line
    held when it was paid (``package_products``) times the units; the inventory adds up a product named twice."""
    products: list[tuple[Product, int]] = [(line.product, qty) for line, qty in units if line.kind == LineKind.PRODUCT]
    held = [
        (pk, pieces * qty)
        for line, qty in units
        if line.kind == LineKind.PACKAGE
        for pk, pieces in line.package_products
    ]
    if held:
        found = Product.objects.in_bulk({pk for pk, _pieces in held})
        products.extend((found[pk], pieces) for pk, pieces in held)
    return products


@receiver(bill_paid, sender=Bill, dispatch_uid="pos.bill_paid.effects")
def bill_paid_effects(*, bill: Bill, lines: list[Any], acting_user: Any, **_kwargs: Any) -> None:
    commission_record_for_bill(bill=bill, lines=lines)
    reference = f"bill:{bill.pk}"
    products = _products_of([(line, line.quantity) for line in lines])
    services = [(line.service, line.quantity) for line in lines if line.kind == LineKind.SERVICE]
    if products:
        stock_sale_record(
            location=bill.location,
            items=products,
            reference=reference,
            idempotency_key=reference,
            acting_user=acting_user,
        )
    if services:
        stock_consume_for_services(
            location=bill.location,
            services=services,
            reference=reference,
            idempotency_key=reference,
            acting_user=acting_user,
        )
    receipt_on_bill_paid(bill=bill)


@receiver(bill_refunded, sender=Refund, dispatch_uid="pos.bill_refunded.effects")
def bill_refunded_effects(*, bill: Bill, refund: Refund, lines: list[Any], acting_user: Any, **_kwargs: Any) -> None:
    commission_reverse_for_refund(refund=refund)
    reference = f"bill:{bill.pk}"
    key = f"refund:{refund.pk}"
    returned = [(r.bill_line, r.quantity) for r in lines if r.quantity > 0]
    products = _products_of(returned)
    services = [(line.service, qty) for line, qty in returned if line.kind == LineKind.SERVICE]
    if products:
        stock_sale_reverse(
            location=bill.location, items=products, reference=reference, idempotency_key=key, acting_user=acting_user
        )
    if services:
        stock_consume_for_services_reverse(
            location=bill.location, services=services, reference=reference, idempotency_key=key, acting_user=acting_user
        )
