from __future__ import annotations

from decimal import Decimal

from django import template

from apps.inventory.services._ledger import fmt

register = template.Library()


@register.filter
def qty(value: Decimal | int | None) -> str:
    """3.000 → "3", 0.090 → "0.09", None → "" (quantities as people write them)."""
    if value is None or value == "":
        return ""
    return fmt(Decimal(value))


@register.filter
def fen(value: Decimal | int | None) -> int:
    """An amount in fen computed from quantities (3 × ¥18.50 with decimals), rounded to the fen."""
    from decimal import ROUND_HALF_UP

    return int(Decimal(value or 0).quantize(Decimal(1), rounding=ROUND_HALF_UP))
