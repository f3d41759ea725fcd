"""Money in templates: amounts are integer fen everywhere; people read yuan."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """12345 → "¥123.45"; -500 → "-¥5.00"; None → "—"."""
    if fen is None or fen == "":
        return "—"
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"
