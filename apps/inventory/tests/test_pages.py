"""The inventory pages under /inventory/: stock by location, low stock and the navigation badge, a
product's history with alert levels, adjustments, transfers, purchase orders (receive in part), the
count sheet and its posting, and the settings. Staff without ``manage_inventory`` are refused."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from apps.catalog import services as catalog
from apps.core.models import User
from apps.core.services import user_set_language
from apps.inventory.models import (
    InventorySettings,
    MaterialUnit,
    MovementKind,
    PurchaseOrder,
    PurchaseOrderStatus,
    StockMovement,
    Stocktake,
    StocktakeStatus,
    StockTransfer,
)
from apps.inventory.services import (
    OrderLineSpec,
    purchase_order_create,
    purchase_order_place,
    stock_reorder_level_set,
    stocktake_open,
)
from apps.inventory.tests.helpers import main_location, on_hand, product, second_location, stock_in
from tests.fixtures import logged_in_client, make_staff, owner_of

D = Decimal


def english(info, username: str):
    with schema_context(info.schema):
        user_set_language(user=User.objects.get(username=username), language="en")
    return logged_in_client(info, username)


@pytest.fixture
def shop(alpha):
    with schema_context(alpha.schema):
        main, branch = main_location(), second_location()
        shampoo, mask = product("Shampoo"), product("Mask", cost=2500)
        stock_in(main, shampoo, 5)
        stock_in(main, mask, 1)
        stock_reorder_level_set(location=main, product=mask, reorder_level=2, acting_user=None)
        supplier = catalog.supplier_create(name="Supply Co")
    return {
        "main": main,
        "branch": branch,
        "shampoo": shampoo,
        "mask": mask,
        "supplier": supplier,
        "owner": english(alpha, alpha.owner_username),
        "schema": alpha.schema,
        "info": alpha,
    }


PAGES = [
    "/inventory/",
    "/inventory/low-stock/",
    "/inventory/adjust/",
    "/inventory/transfers/",
    "/inventory/transfers/new/",
    "/inventory/purchase-orders/",
    "/inventory/purchase-orders/new/",
    "/inventory/stocktakes/",
    "/inventory/settings/",
]


def test_every_page_renders_with_labelled_inputs(shop):
    for url in [*PAGES, f"/inventory/products/{shop['shampoo'].pk}/"]:
        response = shop["owner"].get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'aria-label="Inventory"' in html, url
        inputs = len(re.findall(r"<input(?![^>]*type=\"hidden\")", html)) + html.count("<select")
        assert inputs <= html.count("<label") + html.count("aria-label"), url


def test_staff_without_the_permission_are_refused(shop):
    make_staff(shop["info"], role="front_desk", username="desk")
    make_staff(shop["info"], role="technician", username="wang")
    for username in ("desk", "wang"):
        client = logged_in_client(shop["info"], username)
        assert [client.get(url).status_code for url in PAGES] == [403] * len(PAGES), username
        body = {"location": shop["main"].pk, "product": shop["shampoo"].pk, "quantity": "-1", "reason": "lost"}
        assert client.post("/inventory/adjust/", body | {"idempotency_key": "x"}).status_code == 403
    with schema_context(shop["schema"]):
        assert on_hand(shop["main"], shop["shampoo"]) == D("5")


def test_stock_page_filters_and_highlights_low_stock(shop):
    owner = shop["owner"]
    html = owner.get("/inventory/").content.decode()
    assert "1 product is at or below its alert level." in html
    assert html.count('class="stock-low"') == 1
    low_only = owner.get("/inventory/?low=on").content.decode()
    assert str(shop["mask"]) in low_only and str(shop["shampoo"]) not in low_only
    searched = owner.get("/inventory/?q=shamp").content.decode()
    assert str(shop["shampoo"]) in searched and str(shop["mask"]) not in searched
    elsewhere = owner.get(f"/inventory/?location={shop['branch'].pk}").content.decode()
    assert "No stock recorded yet" in elsewhere
    assert owner.get("/inventory/?location=abc&page=zz").status_code == 200


def test_the_navigation_badge_counts_low_stock_for_managers(shop):
    owner = shop["owner"]
    page = owner.get("/inventory/").content.decode()
    assert 'hx-get="/inventory/low-stock/badge/"' in page
    badge = owner.get("/inventory/low-stock/badge/").content.decode()
    assert ">1<" in badge and "1 product is low on stock" in badge
    make_staff(shop["info"], role="front_desk", username="desk")
    desk_page = logged_in_client(shop["info"], "desk").get("/").content.decode()
    assert "/inventory/low-stock/badge/" not in desk_page


def test_setting_an_alert_level_on_the_product_page(shop):
    owner, main, shampoo = shop["owner"], shop["main"], shop["shampoo"]
    url = f"/inventory/products/{shampoo.pk}/alert/{main.pk}/"
    row = owner.post(url, {f"alert-{main.pk}-reorder_level": "6"}, HTTP_HX_REQUEST="true")
    assert row.status_code == 200
    assert "Saved" in row.content.decode() and 'class="stock-low"' in row.content.decode()
    bad = owner.post(url, {f"alert-{main.pk}-reorder_level": "-3"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'role="alert"' in bad
    with schema_context(shop["schema"]):
        from apps.inventory.models import StockLevel

        assert StockLevel.objects.get(location=main, product=shampoo).reorder_level == D("6")


def test_adjusting_stock_on_its_page(shop):
    owner, main, shampoo = shop["owner"], shop["main"], shop["shampoo"]
    form = owner.get(f"/inventory/adjust/?location={main.pk}&product={shampoo.pk}").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', form).group(1)
    body = {
        "location": main.pk,
        "product": shampoo.pk,
        "quantity": "-2",
        "reason": "damaged",
        "note": "",
        "idempotency_key": key,
    }
    response = owner.post("/inventory/adjust/", body)
    assert response.status_code == 302 and response["Location"] == f"/inventory/products/{shampoo.pk}/"
    assert owner.post("/inventory/adjust/", body).status_code == 302  # a double submit applies once
    refused = owner.post("/inventory/adjust/", body | {"quantity": "-9", "idempotency_key": "other"})
    assert refused.status_code == 400
    assert f"Not enough {shampoo} at {main.name}: 3 on hand, 9 needed." in refused.content.decode()
    history = owner.get(f"/inventory/products/{shampoo.pk}/?kind=adjustment").content.decode()
    assert "Damaged" in history and "-2" in history
    with schema_context(shop["schema"]):
        assert on_hand(main, shampoo) == D("3")


def test_a_transfer_on_its_page(shop):
    owner, main, branch, shampoo = shop["owner"], shop["main"], shop["branch"], shop["shampoo"]
    page = owner.get("/inventory/transfers/new/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    body = {
        "from_location": main.pk,
        "to_location": branch.pk,
        "note": "",
        "idempotency_key": key,
        "product": [str(shampoo.pk), ""],
        "quantity": ["2", ""],
    }
    response = owner.post("/inventory/transfers/new/", body)
    assert response.status_code == 302
    too_much = owner.post("/inventory/transfers/new/", body | {"idempotency_key": "k2", "quantity": ["9", ""]})
    assert too_much.status_code == 400 and "3 on hand, 9 needed" in too_much.content.decode()
    bad_row = owner.post("/inventory/transfers/new/", body | {"idempotency_key": "k3", "quantity": ["lots", ""]})
    assert bad_row.status_code == 400 and "Enter a quantity." in bad_row.content.decode()
    listing = owner.get("/inventory/transfers/").content.decode()
    assert f"{shampoo} × 2" in listing
    row = owner.get("/inventory/lines/row/?n=6&cost=1").content.decode()
    assert 'id="line-product-6"' in row and 'name="unit_cost"' in row
    with schema_context(shop["schema"]):
        assert (on_hand(main, shampoo), on_hand(branch, shampoo), StockTransfer.objects.count()) == (D("3"), D("2"), 1)


def test_a_purchase_order_created_placed_and_received_in_part(shop):
    owner, main, shampoo, mask = shop["owner"], shop["main"], shop["shampoo"], shop["mask"]
    # create the draft: 10 shampoos at ¥38.00, 4 masks at the catalogue's cost
    response = owner.post(
        "/inventory/purchase-orders/new/",
        {
            "supplier": shop["supplier"].pk,
            "location": main.pk,
            "expected_on": "",
            "note": "",
            "product": [str(shampoo.pk), str(mask.pk), ""],
            "quantity": ["10", "4", ""],
            "unit_cost": ["38", "", ""],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context(shop["schema"]):
        order = PurchaseOrder.objects.get()
        lines = {line.product_id: line for line in order.lines.all()}
    assert response["Location"] == f"/inventory/purchase-orders/{order.pk}/"
    assert (lines[shampoo.pk].unit_cost, lines[mask.pk].unit_cost) == (3800, 2500)
    detail = owner.get(f"/inventory/purchase-orders/{order.pk}/").content.decode()
    assert "Place the order" in detail and "¥480.00" in detail
    assert owner.post(f"/inventory/purchase-orders/{order.pk}/order/").status_code == 302
    # a delivery of 6 shampoos
    detail = owner.get(f"/inventory/purchase-orders/{order.pk}/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', detail).group(1)
    received = owner.post(
        f"/inventory/purchase-orders/{order.pk}/receive/",
        {f"line_{lines[shampoo.pk].pk}": "6", f"line_{lines[mask.pk].pk}": "", "note": "", "idempotency_key": key},
    )
    assert received.status_code == 302
    page = owner.get(f"/inventory/purchase-orders/{order.pk}/").content.decode()
    assert "Partially received" in page and "Deliveries received" in page
    too_much = owner.post(
        f"/inventory/purchase-orders/{order.pk}/receive/",
        {f"line_{lines[shampoo.pk].pk}": "5", "note": "", "idempotency_key": "other"},
    )
    assert too_much.status_code == 400 and "only 4 are still to come" in too_much.content.decode()
    nothing = owner.post(f"/inventory/purchase-orders/{order.pk}/receive/", {"note": "", "idempotency_key": "n"})
    assert nothing.status_code == 400 and "Enter what arrived of at least one line." in nothing.content.decode()
    with schema_context(shop["schema"]):
        assert on_hand(main, shampoo) == D("11")
        assert PurchaseOrder.objects.get().status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    listing = owner.get("/inventory/purchase-orders/?status=partially_received").content.decode()
    assert order.number in listing and "¥480.00" in listing


def test_a_draft_can_be_edited_and_cancelled(shop):
    owner = shop["owner"]
    with schema_context(shop["schema"]):
        order = purchase_order_create(
            supplier=shop["supplier"], location=shop["main"], lines=[OrderLineSpec(shop["mask"], 2)], acting_user=None
        )
    edit = owner.get(f"/inventory/purchase-orders/{order.pk}/edit/").content.decode()
    assert 'value="2"' in edit
    cancelled = owner.post(f"/inventory/purchase-orders/{order.pk}/cancel/", {"reason": "wrong supplier"})
    assert cancelled.status_code == 302
    with schema_context(shop["schema"]):
        order.refresh_from_db()
        assert (order.status, order.cancel_reason) == (PurchaseOrderStatus.CANCELLED, "wrong supplier")
        placed = purchase_order_create(
            supplier=shop["supplier"], location=shop["main"], lines=[OrderLineSpec(shop["mask"], 2)], acting_user=None
        )
        purchase_order_place(order=placed, acting_user=None)
    assert owner.get(f"/inventory/purchase-orders/{placed.pk}/edit/").status_code == 302


def test_the_count_sheet_saves_rows_and_posts(shop):
    owner, main, shampoo, mask = shop["owner"], shop["main"], shop["shampoo"], shop["mask"]
    opened = owner.post("/inventory/stocktakes/", {"location": main.pk, "note": ""})
    with schema_context(shop["schema"]):
        sheet = Stocktake.objects.get()
    assert opened["Location"] == f"/inventory/stocktakes/{sheet.pk}/"
    page = owner.get(opened["Location"]).content.decode()
    assert f'id="counted-{shampoo.pk}"' in page and "0 of" in page
    # one row saved by htmx comes back as the row
    row = owner.post(
        f"/inventory/stocktakes/{sheet.pk}/count/",
        {"row": str(shampoo.pk), f"counted_{shampoo.pk}": "4", f"counted_{mask.pk}": ""},
        HTTP_HX_REQUEST="true",
    )
    assert row.status_code == 200
    html = row.content.decode()
    assert html.startswith(f'<tr id="count-{shampoo.pk}"') and "Saved" in html and "-1" in html
    bad = owner.post(
        f"/inventory/stocktakes/{sheet.pk}/count/",
        {"row": str(mask.pk), f"counted_{mask.pk}": "-2"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'role="alert"' in bad
    # the whole sheet saved at once, then posted
    saved = owner.post(
        f"/inventory/stocktakes/{sheet.pk}/count/", {f"counted_{shampoo.pk}": "4", f"counted_{mask.pk}": "3"}
    )
    assert saved.status_code == 302
    assert owner.post(f"/inventory/stocktakes/{sheet.pk}/post/").status_code == 302
    report = owner.get(f"/inventory/stocktakes/{sheet.pk}/").content.decode()
    assert "Variance" in report and "-¥40.00" in report and "¥50.00" in report
    with schema_context(shop["schema"]):
        assert Stocktake.objects.get().status == StocktakeStatus.POSTED
        assert (on_hand(main, shampoo), on_hand(main, mask)) == (D("4"), D("3"))
        assert StockMovement.objects.filter(kind=MovementKind.STOCKTAKE).count() == 2


def test_a_stocktake_can_be_cancelled(shop):
    with schema_context(shop["schema"]):
        sheet = stocktake_open(location=shop["main"], acting_user=owner_of(shop["info"]))
    assert shop["owner"].post(f"/inventory/stocktakes/{sheet.pk}/cancel/").status_code == 302
    with schema_context(shop["schema"]):
        assert Stocktake.objects.get().status == StocktakeStatus.CANCELLED


def test_settings_and_material_units(shop):
    owner, mask = shop["owner"], shop["mask"]
    with schema_context(shop["schema"]):
        from apps.inventory.tests.helpers import service

        service("Facial", materials=[(mask, "1", "片")])
    page = owner.get("/inventory/settings/").content.decode()
    assert "These materials cannot be taken off stock yet" in page and "Facial" in page
    assert owner.post("/inventory/settings/", {"form": "settings", "allow_negative_stock": "on"}).status_code == 302
    saved = owner.post(
        "/inventory/settings/", {"form": "unit", "unit-product": mask.pk, "unit-unit": "片", "unit-per_stock_unit": "5"}
    )
    assert saved.status_code == 302
    page = owner.get("/inventory/settings/").content.decode()
    assert "These materials cannot be taken off stock yet" not in page
    with schema_context(shop["schema"]):
        assert InventorySettings.objects.get().allow_negative_stock is True
        unit = MaterialUnit.objects.get()
        assert (unit.unit, unit.per_stock_unit) == ("片", D("5"))
    assert owner.post(f"/inventory/settings/units/{unit.pk}/remove/").status_code == 302
    with schema_context(shop["schema"]):
        assert not MaterialUnit.objects.exists()


def test_list_pages_keep_their_query_count(shop, django_assert_max_num_queries):
    owner = shop["owner"]
    urls = (
        "/inventory/",
        "/inventory/low-stock/",
        f"/inventory/products/{shop['shampoo'].pk}/",
        "/inventory/purchase-orders/",
    )
    with schema_context(shop["schema"]):
        stock_in(shop["main"], product("Extra 0"), 1)
        purchase_order_create(
            supplier=shop["supplier"], location=shop["main"], lines=[OrderLineSpec(shop["mask"], 1)], acting_user=None
        )
    few = {}
    for url in urls:
        with django_assert_max_num_queries(30) as queries:  # each query carries a SET search_path
            assert owner.get(url).status_code == 200
        few[url] = len(queries.captured_queries)
    with schema_context(shop["schema"]):
        for n in range(1, 7):
            item = product(f"Extra {n}")
            stock_in(shop["main"], item, n)
            stock_in(shop["main"], shop["shampoo"], 1)
            stock_reorder_level_set(location=shop["main"], product=item, reorder_level=n + 1, acting_user=None)
            purchase_order_create(
                supplier=shop["supplier"], location=shop["main"], lines=[OrderLineSpec(item, 2)], acting_user=None
            )
    for url in urls:
        with django_assert_max_num_queries(few[url]):
            assert owner.get(url).status_code == 200
