"""Pieces shared by inventory's API views: quantities as strings with three decimals, query filters
that answer 400 (never 500) on bad input, and 201-or-200 for idempotent writes."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from apps.inventory.models import MAX_QUANTITY


def quantity_field(**kwargs: Any) -> serializers.DecimalField:
    """A quantity in the product's unit: a string with three decimals out, a number or string in."""
    kwargs.setdefault("max_value", MAX_QUANTITY)
    kwargs.setdefault("min_value", -MAX_QUANTITY)
    return serializers.DecimalField(max_digits=12, decimal_places=3, **kwargs)


def int_param(params: Any, name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if not str(value).isdigit() or len(str(value)) > 18:
        raise ValidationError({name: [_("Enter a whole number.")]})
    return int(value)


def bool_param(params: Any, name: str) -> bool:
    value = str(params.get(name, "")).lower()
    if value in ("", "false", "0", "no"):
        return False
    if value in ("true", "1", "yes"):
        return True
    raise ValidationError({name: [_("Enter true or false.")]})


def date_param(params: Any, name: str) -> datetime.date | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        day = datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({name: [_("Enter a date as YYYY-MM-DD.")]}) from None
    if not 2000 <= day.year <= 2200:
        raise ValidationError({name: [_("Enter a date as YYYY-MM-DD.")]})
    return day


def choice_param(params: Any, name: str, choices: list[str]) -> str | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if value not in choices:
        raise ValidationError({name: [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}]})
    return str(value)
