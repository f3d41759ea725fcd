"""An owner builds the catalogue in a real browser on a 1024×768 tablet: a service category, a
product, a service in that category that uses the product (added with htmx), and sees them listed.

The owner switches the staff app to English first: these pages' Chinese translations are compiled
centrally later, so the test reads the English source labels."""

from __future__ import annotations

import io
import secrets
from typing import Any

import pytest
from PIL import Image

from tests.browser.support import LiveSalonServer, SalonLedger, db_run, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips, or fails under REQUIRE_BROWSER=1
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "Passw0rd-x"


def _create_salon(subdomain: str) -> None:
    from tenants.services import salon_signup

    salon_signup(
        raw={
            "salon_name": "芳华美发",
            "subdomain": subdomain,
            "owner_name": "林芳",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345671",
            "password": PASSWORD,
        }
    )


def _catalogue_of(subdomain: str) -> dict[str, Any]:
    from django_tenants.utils import schema_context

    from apps.catalog.models import Product, Service
    from tenants.models import Salon

    with schema_context(Salon.objects.get(subdomain=subdomain).schema_name):
        service = Service.objects.select_related("category").get()
        product = Product.objects.get()
        return {
            "service": (service.name, service.category.name, service.duration_minutes, service.price),
            "materials": [(m.product.name, str(m.quantity), m.unit) for m in service.materials.all()],
            "product": (product.name, product.brand, product.price, product.stock, bool(product.image)),
        }


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 60), (176, 48, 106)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_owner_creates_a_service_with_a_category_and_a_product(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    subdomain = f"cat-{secrets.token_hex(3)}"
    db_run(_create_salon, subdomain)

    # The owner signs in and switches the app to English.
    page.goto(salon_server.salon_url(subdomain, "/login/"))
    sign_in(page, f"owner@{subdomain}.test", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    expect(page.get_by_role("link", name="Settings", exact=True)).to_be_visible()

    # Settings → Catalogue → Service categories: add "Cutting".
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Catalogue", exact=True).click()
    catalogue_nav = page.get_by_role("navigation", name="Catalogue")
    catalogue_nav.get_by_role("link", name="Service categories", exact=True).click()
    page.get_by_label("Name", exact=True).fill("Cutting")
    page.get_by_role("button", name="Add the category", exact=True).click()
    expect(page.get_by_role("row").filter(has_text="Cutting")).to_contain_text("Active")

    # Products: add a shampoo with an image and stock.
    catalogue_nav.get_by_role("link", name="Products", exact=True).click()
    page.get_by_role("link", name="Add a product", exact=True).click()
    form = page.locator("form.card")
    form.get_by_label("Name", exact=True).fill("Repair shampoo")
    form.get_by_label("Brand", exact=True).fill("Aveda")
    form.get_by_label("Price (yuan)", exact=True).fill("98")
    form.get_by_label("Cost (yuan)", exact=True).fill("40")
    form.get_by_label("Stock on hand", exact=True).fill("12")
    form.get_by_label("Image", exact=True).set_input_files(
        {"name": "shampoo.png", "mimeType": "image/png", "buffer": _png()}
    )
    form.get_by_role("button", name="Save", exact=True).click()
    product_row = page.get_by_role("row").filter(has_text="Repair shampoo")
    expect(product_row).to_contain_text("Aveda")
    expect(product_row).to_contain_text("¥98.00")
    expect(product_row).to_contain_text("12")

    # Services: add a cut in "Cutting" at ¥128.
    catalogue_nav.get_by_role("link", name="Services", exact=True).click()
    page.get_by_role("link", name="Add a service", exact=True).click()
    form = page.locator("form.card")
    form.get_by_label("Name", exact=True).fill("Women's cut")
    form.get_by_label("Category", exact=True).select_option(label="Cutting")
    form.get_by_label("Duration (minutes)", exact=True).fill("45")
    form.get_by_label("Buffer (minutes)", exact=True).fill("10")
    form.get_by_label("Price (yuan)", exact=True).fill("128")
    form.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit Women's cut")

    # On its page, the shampoo is added as a material (htmx swaps the section in place).
    materials = page.locator("#materials")
    materials.get_by_label("Product", exact=True).select_option(label="Aveda Repair shampoo")
    materials.get_by_label("Quantity", exact=True).fill("15")
    materials.get_by_label("Unit", exact=True).fill("ml")
    materials.get_by_role("button", name="Add the material", exact=True).click()
    expect(page.locator("#materials").get_by_role("row").filter(has_text="Repair shampoo")).to_contain_text("15 ml")

    # The services list shows it with its category, price and material.
    catalogue_nav.get_by_role("link", name="Services", exact=True).click()
    service_row = page.get_by_role("row").filter(has_text="Women's cut")
    expect(service_row).to_contain_text("Cutting")
    expect(service_row).to_contain_text("45 min")
    expect(service_row).to_contain_text("¥128.00")
    expect(service_row).to_contain_text("Repair shampoo 15ml")

    assert db_run(_catalogue_of, subdomain) == {
        "service": ("Women's cut", "Cutting", 45, 12800),
        "materials": [("Repair shampoo", "15.000", "ml")],
        "product": ("Repair shampoo", "Aveda", 9800, 12, True),
    }
