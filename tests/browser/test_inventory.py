"""A manager receives a purchase order in a real browser on a 1024×768 tablet: part of the delivery first,
then the rest, and sees the stock rise and the low-stock badge in the menu go away.

The owner switches the staff app to English first: these pages' Chinese translations are compiled
centrally later, so the test reads the English source labels."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.browser.support import LiveSalonServer, SalonLedger, db_run, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips, or fails under REQUIRE_BROWSER=1
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "Passw0rd-x"


def _salon_with_an_order(subdomain: str) -> dict[str, Any]:
    """A salon with a product on alert (nothing on the shelf, alert at 5) and a placed order for 10."""
    from django_tenants.utils import schema_context

    from apps.catalog import services as catalog
    from apps.core.models import Location
    from apps.inventory.services import (
        OrderLineSpec,
        purchase_order_create,
        purchase_order_place,
        stock_reorder_level_set,
    )
    from tenants.services import salon_signup

    salon = salon_signup(
        raw={
            "salon_name": "芳华美发",
            "subdomain": subdomain,
            "owner_name": "林芳",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345672",
            "password": PASSWORD,
        }
    ).salon
    with schema_context(salon.schema_name):
        main = Location.objects.get()
        supplier = catalog.supplier_create(name="Guangzhou Beauty Supply")
        shampoo = catalog.product_create(name="Repair shampoo", brand="Aveda", spec="500 ml", price=9800, cost=4000)
        stock_reorder_level_set(location=main, product=shampoo, reorder_level=5, acting_user=None)
        order = purchase_order_create(
            supplier=supplier, location=main, lines=[OrderLineSpec(shampoo, 10, 3800)], acting_user=None
        )
        purchase_order_place(order=order, acting_user=None)
        return {"order": order.number, "product": str(shampoo)}


def _stock_of(subdomain: str) -> tuple[str, int, str]:
    from django_tenants.utils import schema_context

    from apps.catalog.models import Product
    from apps.inventory.models import PurchaseOrder, StockLevel
    from tenants.models import Salon

    with schema_context(Salon.objects.get(subdomain=subdomain).schema_name):
        level = StockLevel.objects.get()
        return (f"{level.quantity:f}", Product.objects.get().stock, PurchaseOrder.objects.get().status)


def test_manager_receives_a_purchase_order_and_sees_stock_rise(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any
) -> None:
    subdomain = f"inv-{secrets.token_hex(3)}"
    made = db_run(_salon_with_an_order, subdomain)

    # The owner signs in and switches the app to English; the menu's Inventory entry shows 1 product low.
    page.goto(salon_server.salon_url(subdomain, "/login/"))
    sign_in(page, f"owner@{subdomain}.test", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    menu = page.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link", name="Inventory 1 low on stock")).to_be_visible()

    # Inventory → Purchase orders → the order.
    menu.get_by_role("link", name="Inventory 1 low on stock").click()
    tabs = page.get_by_role("navigation", name="Inventory")
    tabs.get_by_role("link", name="Purchase orders", exact=True).click()
    page.get_by_role("link", name=made["order"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ordered")

    # 6 of the 10 arrive: the order is partially received.
    page.get_by_label(f"{made['product']} — arrived now", exact=True).fill("6")
    page.get_by_role("button", name="Receive", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Partially received")
    lines = page.get_by_role("region", name="Lines")
    cells = lines.get_by_role("row").filter(has_text="Repair shampoo").get_by_role("cell")
    expect(cells).to_have_text([made["product"], "10", "6", "4", "¥38.00", "¥380.00"])

    # The stock page shows 6 on hand, and the low-stock badge is gone (6 is above the alert level of 5).
    tabs.get_by_role("link", name="Stock", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Repair shampoo")
    expect(row.get_by_role("cell").nth(2)).to_have_text("6")
    expect(row).not_to_contain_text("Low")
    expect(menu.get_by_role("link", name="Inventory", exact=True)).to_be_visible()

    # The rest arrives: the order is received and 10 are on the shelf.
    tabs.get_by_role("link", name="Purchase orders", exact=True).click()
    page.get_by_role("link", name=made["order"], exact=True).click()
    page.get_by_label(f"{made['product']} — arrived now", exact=True).fill("4")
    page.get_by_role("button", name="Receive", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Received")
    tabs.get_by_role("link", name="Stock", exact=True).click()
    expect(page.get_by_role("row").filter(has_text="Repair shampoo").get_by_role("cell").nth(2)).to_have_text("10")

    assert db_run(_stock_of, subdomain) == ("10.000", 10, "received")
