"""Coupon templates (LOY-6): what a coupon gives and when it applies, checked per kind."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.catalog.models import Product, Service
from apps.core.models import User
from apps.core.services import audit_record
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import CouponKind, CouponTemplate
from apps.loyalty.services import _common as check

UNSET: Any = object()
MAX_VALID_DAYS = 3650
MAX_ISSUED = 10_000_000
PERCENT_KINDS = (CouponKind.PERCENTAGE, CouponKind.PRODUCT_DISCOUNT)


def _invalid(field: str, message: str | None = None) -> Exception:
    return loyalty_error(LoyaltyError.COUPON_INVALID_VALUE, field=field, message=message)


def _whole_or_none(value: Any, *, field: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(field, _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high})
    return value


def _items(values: Iterable[Any], model: type[Service] | type[Product], *, field: str) -> list[int]:
    ids = set()
    for value in values:
        pk = getattr(value, "pk", value)
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise loyalty_error(LoyaltyError.NOT_FOUND, field=field)
        ids.add(pk)
    if model.objects.filter(pk__in=ids).count() != len(ids):
        raise loyalty_error(LoyaltyError.NOT_FOUND, field=field)
    return sorted(ids)


def _template_checked(values: dict[str, Any]) -> dict[str, Any]:
    """The template's values with each rule of its kind kept; extras a kind does not use are cleared."""
    kind = values["kind"]
    if kind not in CouponKind.values:
        raise loyalty_error(LoyaltyError.COUPON_INVALID_KIND)
    values["name"] = check.text(values["name"], field="name", model=CouponTemplate, required=True)
    values["gift"] = check.text(values["gift"], field="gift", model=CouponTemplate)
    values["description"] = check.text(values["description"], field="description", model=CouponTemplate)
    values["min_spend"] = check.amount_or_zero(values["min_spend"], field="min_spend")
    value = values["value"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid("value")
    if kind == CouponKind.MONEY_OFF:
        if not 0 < value <= check.MAX_AMOUNT:
            raise _invalid("value", _("Enter the money off: more than ¥0.00."))
        if values["min_spend"] and value > values["min_spend"]:
            raise _invalid("value", _("The money off cannot be more than the minimum spend."))
    elif kind in PERCENT_KINDS:
        if not 1 <= value <= 99:
            raise _invalid("value", _("Enter the percentage off: a whole number from 1 to 99."))
    elif kind == CouponKind.SERVICE_TRIAL:
        if not 0 <= value <= check.MAX_AMOUNT:
            raise _invalid("value", _("Enter the trial price: ¥0.00 or more."))
    else:
        values["value"] = 0
        if not values["gift"]:
            raise loyalty_error(LoyaltyError.COUPON_GIFT_REQUIRED)
    if kind != CouponKind.GIFT:
        values["gift"] = ""
    if kind in PERCENT_KINDS:
        values["max_discount"] = _whole_or_none(
            values["max_discount"], field="max_discount", low=1, high=check.MAX_AMOUNT
        )
    else:
        values["max_discount"] = None
    values["eligible_services"] = _items(values["eligible_services"], Service, field="eligible_services")
    values["eligible_products"] = _items(values["eligible_products"], Product, field="eligible_products")
    if kind == CouponKind.SERVICE_TRIAL:
        values["eligible_products"] = []
        if not values["eligible_services"]:
            raise loyalty_error(LoyaltyError.COUPON_ITEMS_REQUIRED, field="eligible_services")
    if kind == CouponKind.PRODUCT_DISCOUNT:
        values["eligible_services"] = []
        if not values["eligible_products"]:
            raise loyalty_error(LoyaltyError.COUPON_ITEMS_REQUIRED, field="eligible_products")
    _validity_checked(values)
    values["max_issued"] = _whole_or_none(values["max_issued"], field="max_issued", low=1, high=MAX_ISSUED)
    for flag in ("one_per_bill", "stackable", "is_active"):
        if not isinstance(values[flag], bool):
            raise _invalid(flag, _("Choose yes or no."))
    return values


def _validity_checked(values: dict[str, Any]) -> None:
    """A template gives either a window (until a date, from a date or at once) or a number of days."""
    valid_from, valid_until = values["valid_from"], values["valid_until"]
    for value, name in ((valid_from, "valid_from"), (valid_until, "valid_until")):
        if value is not None and not isinstance(value, datetime.date):
            raise loyalty_error(LoyaltyError.INVALID_WINDOW, field=name)
    values["valid_days"] = _whole_or_none(values["valid_days"], field="valid_days", low=1, high=MAX_VALID_DAYS)
    if values["valid_days"] is not None and (valid_from or valid_until):
        raise loyalty_error(
            LoyaltyError.INVALID_WINDOW,
            field="valid_days",
            message=_("Give either dates or a number of days the coupon is valid, not both."),
        )
    if values["valid_days"] is None and valid_until is None:
        raise loyalty_error(
            LoyaltyError.INVALID_WINDOW,
            field="valid_until",
            message=_("Give the last day the coupons are valid, or for how many days after issue."),
        )
    if valid_from and valid_until and valid_until < valid_from:
        raise loyalty_error(LoyaltyError.INVALID_WINDOW)


TEMPLATE_FIELDS = (
    "name",
    "kind",
    "value",
    "gift",
    "min_spend",
    "max_discount",
    "valid_from",
    "valid_until",
    "valid_days",
    "one_per_bill",
    "stackable",
    "max_issued",
    "is_active",
    "description",
)


def _audit_data(template: CouponTemplate) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(template, name) for name in TEMPLATE_FIELDS}
    for name in ("valid_from", "valid_until"):
        data[name] = data[name].isoformat() if data[name] else None
    return data


@transaction.atomic
def coupon_template_create(
    *,
    name: str,
    kind: str,
    value: int = 0,
    gift: str = "",
    min_spend: int = 0,
    max_discount: int | None = None,
    eligible_services: Iterable[Any] = (),
    eligible_products: Iterable[Any] = (),
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    valid_days: int | None = None,
    one_per_bill: bool = True,
    stackable: bool = False,
    max_issued: int | None = None,
    is_active: bool = True,
    description: str = "",
    acting_user: User | None,
) -> CouponTemplate:
    """Define a coupon (``manage_loyalty``, audited). ``value`` means by kind: fen off (money off, at
    most the minimum spend), percent off 1–99 (percentage, product discount), the price paid for one
    eligible service (service trial); a gift names ``gift`` instead. Validity: dates or a number of days."""
    check.require_permission(acting_user, "manage_loyalty")
    values = _template_checked(
        {
            "name": name,
            "kind": kind,
            "value": value,
            "gift": gift,
            "min_spend": min_spend,
            "max_discount": max_discount,
            "eligible_services": eligible_services,
            "eligible_products": eligible_products,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "valid_days": valid_days,
            "one_per_bill": one_per_bill,
            "stackable": stackable,
            "max_issued": max_issued,
            "is_active": is_active,
            "description": description,
        }
    )
    services, products = values.pop("eligible_services"), values.pop("eligible_products")
    template = CouponTemplate.objects.create(**values)
    template.eligible_services.set(services)
    template.eligible_products.set(products)
    audit_record(
        action="loyalty.coupon_template.created",
        actor=acting_user,
        target=template,
        data={**_audit_data(template), "eligible_services": services, "eligible_products": products},
    )
    return template


@transaction.atomic
def coupon_template_update(*, template: CouponTemplate, acting_user: User | None, **changes: Any) -> CouponTemplate:
    """Change a template (``manage_loyalty``, audited with old → new values). Coupons already issued
    follow the new conditions; the kind cannot change once any was issued, nor the limit drop below them."""
    check.require_permission(acting_user, "manage_loyalty")
    unknown = set(changes) - {*TEMPLATE_FIELDS, "eligible_services", "eligible_products"}
    if unknown:
        raise TypeError(sorted(unknown))
    # Locked so a concurrent issue cannot pass a limit being lowered under it.
    template = CouponTemplate.objects.select_for_update().get(pk=template.pk)
    before = {
        **_audit_data(template),
        "eligible_services": sorted(template.eligible_services.values_list("pk", flat=True)),
        "eligible_products": sorted(template.eligible_products.values_list("pk", flat=True)),
    }
    values = {**before, **{k: v for k, v in changes.items() if v is not UNSET}}
    for name in ("valid_from", "valid_until"):
        if name not in changes or changes[name] is UNSET:
            values[name] = getattr(template, name)
    values = _template_checked(values)
    if values["kind"] != template.kind and template.issued_count:
        raise loyalty_error(
            LoyaltyError.COUPON_INVALID_KIND, message=_("The kind cannot change once coupons have been issued.")
        )
    if values["max_issued"] is not None and values["max_issued"] < template.issued_count:
        raise loyalty_error(LoyaltyError.COUPON_LIMIT_BELOW_ISSUED)
    services, products = values.pop("eligible_services"), values.pop("eligible_products")
    for name, value in values.items():
        setattr(template, name, value)
    template.save(update_fields=list(TEMPLATE_FIELDS))
    template.eligible_services.set(services)
    template.eligible_products.set(products)
    after = {**_audit_data(template), "eligible_services": services, "eligible_products": products}
    changed = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if changed:
        audit_record(action="loyalty.coupon_template.updated", actor=acting_user, target=template, data=changed)
    return template
