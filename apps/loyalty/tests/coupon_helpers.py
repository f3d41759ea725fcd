"""Arrange coupon data through the services: templates of each kind, catalogue items, the salon's day."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from apps.catalog import services as catalog
from apps.loyalty.models import CouponKind
from apps.loyalty.services import coupon_templates, coupons
from apps.loyalty.services.coupon_pricing import DraftLine

TODAY = datetime.date(2025, 3, 10)


def a_service(name: str = "Women's cut", price: int = 12800) -> Any:
    return catalog.service_create(name=name, duration_minutes=45, price=price, acting_user=None)


def a_product(name: str = "Repair shampoo", price: int = 9800, barcode: str = "") -> Any:
    return catalog.product_create(name=name, price=price, barcode=barcode, acting_user=None)


def a_template(kind: str = CouponKind.MONEY_OFF, **values: Any) -> Any:
    defaults: dict[str, Any] = {"name": f"{kind} coupon", "valid_days": 30}
    if kind == CouponKind.MONEY_OFF:
        defaults["value"] = 5000
    elif kind in (CouponKind.PERCENTAGE, CouponKind.PRODUCT_DISCOUNT):
        defaults["value"] = 20
    elif kind == CouponKind.GIFT:
        defaults["gift"] = "Travel-size conditioner"
    defaults.update(values)
    acting_user = defaults.pop("acting_user", None)
    return coupon_templates.coupon_template_create(kind=kind, acting_user=acting_user, **defaults)


def give(template: Any, client: Any, key: str = "", **extra: Any) -> Any:
    return coupons.coupon_issue(
        template=template, client=client, issue_key=key or f"test:{template.pk}:{client.pk}", acting_user=None, **extra
    )


def service_line(service: Any, amount: int | None = None, quantity: int = 1) -> DraftLine:
    return DraftLine("service", service.pk, service.price * quantity if amount is None else amount, quantity)


def product_line(product: Any, amount: int | None = None, quantity: int = 1) -> DraftLine:
    return DraftLine("product", product.pk, product.price * quantity if amount is None else amount, quantity)


def other_line(amount: int) -> DraftLine:
    return DraftLine("other", None, amount, 1)


@pytest.fixture(name="salon_day")
def salon_day_fixture(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The salon's day is TODAY unless the test moves it: ``salon_day(date)``."""
    from apps.loyalty import selectors_coupons
    from apps.loyalty.services import coupon_pricing, coupon_rules

    def move(day: datetime.date) -> datetime.date:
        for module in (coupons, coupon_pricing, coupon_rules, selectors_coupons):
            monkeypatch.setattr(module, "salon_today", lambda: day)
        return day

    move(TODAY)
    return move
