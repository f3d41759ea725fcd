from __future__ import annotations

from django import template

from apps.core.money import fen_to_yuan

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """Integer fen shown as yuan: 18800 -> "¥188.00"."""
    if fen is None or fen == "":
        return ""
    return f"¥{fen_to_yuan(fen)}"
