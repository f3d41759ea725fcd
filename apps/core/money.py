"""Money is integer fen everywhere (SPEC §3). People type and read yuan; these helpers convert at the edge."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Largest amount a price, cost or balance may hold: ¥100,000,000.00. Far above any salon's figure,
# far below bigint, so arithmetic on a few of them never overflows.
MAX_AMOUNT = 10_000_000_000


def fen_to_yuan(fen: int | None) -> str:
    """1880 -> "18.80" (no currency sign; negative amounts keep their sign)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def yuan_to_fen(value: Any) -> int:
    """ "18.8" -> 1880. Raises ValueError for anything that is not a finite amount with at most 2 decimals."""
    try:
        amount = Decimal(str(value).strip().replace(",", "").lstrip("¥"))
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
        raise ValueError(value)
    return int(amount * 100)


class MoneyField(forms.DecimalField):
    """A form field where staff type yuan (188 or 188.50); ``cleaned_data`` holds integer fen."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", Decimal(MAX_AMOUNT) / 100)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("step", "0.01")
        self.widget.attrs.setdefault("inputmode", "decimal")

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{Decimal(value) / 100:.2f}"
        return super().prepare_value(value)

    def clean(self, value: Any) -> int | None:
        amount = super().clean(value)
        if amount is None:
            return None
        try:
            return yuan_to_fen(amount)
        except ValueError as exc:
            raise ValidationError(_("Enter an amount in yuan with at most two decimals."), code="invalid") from exc
