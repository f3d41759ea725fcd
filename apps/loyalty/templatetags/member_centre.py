"""Wording of the member centre that depends on figures (what a coupon gives)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from apps.core.templatetags.money import yuan
from apps.loyalty.models import CouponKind, CouponTemplate

register = template.Library()


def _discount(percent_off: int) -> str:
    """20 % off is 八折 (pay 8 tenths); 15 % off is 8.5折."""
    tenths = (100 - percent_off) / 10
    return f"{tenths:g}"


@register.filter
def coupon_benefit(coupon_template: CouponTemplate) -> str:
    """What the coupon gives, in one line: "¥20.00 off", "20% off", "Free trial of a service" …"""
    kind = coupon_template.kind
    value = coupon_template.value
    if kind == CouponKind.MONEY_OFF:
        return _("%(amount)s off") % {"amount": yuan(value)}
    if kind in (CouponKind.PERCENTAGE, CouponKind.PRODUCT_DISCOUNT):
        # Translators: %(discount)s is the Chinese way of saying it (8 for 20% off, i.e. 八折).
        text = _("%(percent)s%% off") if kind == CouponKind.PERCENTAGE else _("%(percent)s%% off products")
        benefit = text % {"percent": value, "discount": _discount(value)}
        if coupon_template.max_discount:
            benefit = _("%(benefit)s, up to %(cap)s") % {"benefit": benefit, "cap": yuan(coupon_template.max_discount)}
        return benefit
    if kind == CouponKind.SERVICE_TRIAL:
        if value == 0:
            return _("Free trial of a service")
        return _("Try a service for %(price)s") % {"price": yuan(value)}
    if kind == CouponKind.GIFT:
        return _("Gift: %(gift)s") % {"gift": coupon_template.gift}
    return str(coupon_template.name)
