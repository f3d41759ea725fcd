"""Catalogue pages under Settings: render, create and edit through the services, show errors,
refuse roles without manage_catalog, keep list queries fixed."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.catalog import services
from apps.catalog.models import (
    CourseCardTemplate,
    Package,
    PriceRule,
    Product,
    ProductCategory,
    Service,
    ServiceCategory,
    ServiceMaterial,
    Supplier,
)
from apps.catalog.tests.helpers import haircut, level, png, shampoo, tier
from apps.core.models import AuditEntry, StaffLevel
from tests.fixtures import logged_in_client, make_staff

LIST_PAGES = [
    "/settings/catalog/services/",
    "/settings/catalog/service-categories/",
    "/settings/catalog/product-categories/",
    "/settings/catalog/products/",
    "/settings/catalog/suppliers/",
    "/settings/catalog/packages/",
    "/settings/catalog/course-cards/",
    "/settings/catalog/price-rules/",
    "/settings/catalog/staff-levels/",
    "/settings/catalog/staff-groups/",
    "/settings/catalog/services/new/",
    "/settings/catalog/products/new/",
    "/settings/catalog/suppliers/new/",
    "/settings/catalog/packages/new/",
    "/settings/catalog/course-cards/new/",
]


@pytest.fixture
def owner(alpha):
    client = logged_in_client(alpha, alpha.owner_username)
    client.post("/account/language/", {"language": "en"})
    return client


def errors_in(response) -> int:
    return response.content.decode().count('class="error"')


@pytest.mark.parametrize("url", LIST_PAGES)
def test_every_page_renders_with_labelled_inputs(owner, url):
    response = owner.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-label="Catalogue"' in html
    assert html.count("<input") - html.count('type="hidden"') <= html.count("<label") + html.count("aria-label")


def test_settings_nav_links_to_the_catalogue(owner):
    html = owner.get("/settings/staff/").content.decode()
    assert 'href="/settings/catalog/" >Catalogue</a>' in html


def test_technician_and_front_desk_cannot_open_the_catalogue(alpha):
    make_staff(alpha, role="technician", username="tech")
    make_staff(alpha, role="front_desk", username="desk")
    for username in ("tech", "desk"):
        client = logged_in_client(alpha, username)
        assert client.get("/settings/catalog/services/").status_code == 403
        assert client.post("/settings/catalog/services/new/", {"name": "X"}).status_code == 403
    with schema_context(alpha.schema):
        assert not Service.objects.exists()


def test_create_a_service_with_category_and_materials(owner, alpha):
    # given
    with schema_context(alpha.schema):
        category = services.service_category_create(name="Colour")
        dye = shampoo(name="Hair dye", barcode="")
    # when the service is created (price typed in yuan)
    response = owner.post(
        "/settings/catalog/services/new/",
        {
            "name": "Full colour",
            "category": category.pk,
            "duration_minutes": "120",
            "buffer_minutes": "15",
            "price": "388.50",
            "description": "",
            "suits": "Grey coverage",
            "sort_order": "0",
        },
    )
    # then it is stored in fen and the edit page opens
    with schema_context(alpha.schema):
        service = Service.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/settings/catalog/services/{service.pk}/"
    assert (service.name, service.category_id, service.price, service.duration_minutes, service.suits) == (
        "Full colour",
        category.pk,
        38850,
        120,
        "Grey coverage",
    )
    # when a material is added with htmx, the section comes back
    added = owner.post(
        f"/settings/catalog/services/{service.pk}/materials/",
        {"material-product": dye.pk, "material-quantity": "60", "material-unit": "g"},
        HTTP_HX_REQUEST="true",
    )
    assert added.status_code == 200
    assert 'id="materials"' in added.content.decode() and "Hair dye" in added.content.decode()
    assert "<html" not in added.content.decode()
    # and a duplicate shows its error in the section
    again = owner.post(
        f"/settings/catalog/services/{service.pk}/materials/",
        {"material-product": dye.pk, "material-quantity": "5"},
        HTTP_HX_REQUEST="true",
    )
    assert "already listed as a material" in again.content.decode()
    with schema_context(alpha.schema):
        material = ServiceMaterial.objects.get()
        assert (material.product_id, str(material.quantity), material.unit) == (dye.pk, "60.000", "g")
    # without htmx, removing redirects back to the page
    removed = owner.post(f"/settings/catalog/services/{service.pk}/materials/{material.pk}/remove/")
    assert removed.status_code == 302
    with schema_context(alpha.schema):
        assert not ServiceMaterial.objects.exists()
    listing = owner.get("/settings/catalog/services/").content.decode()
    assert "Full colour" in listing and "¥388.50" in listing and "Colour" in listing


def test_service_errors_are_shown_and_nothing_is_saved(owner, alpha):
    with schema_context(alpha.schema):
        haircut(name="Cut")
    response = owner.post(
        "/settings/catalog/services/new/",
        {"name": "cut", "duration_minutes": "30", "buffer_minutes": "0", "price": "10", "sort_order": "0"},
    )
    assert response.status_code == 200
    assert "Another entry already has this name." in response.content.decode()
    zero = owner.post(
        "/settings/catalog/services/new/",
        {"name": "New", "duration_minutes": "0", "buffer_minutes": "-1", "price": "-3", "sort_order": "0"},
    )
    assert zero.status_code == 200 and errors_in(zero) >= 1
    with schema_context(alpha.schema):
        assert list(Service.objects.values_list("name", flat=True)) == ["Cut"]


def test_edit_and_deactivate_a_service(owner, alpha):
    with schema_context(alpha.schema):
        service = haircut()
    edit = owner.post(
        f"/settings/catalog/services/{service.pk}/",
        {"name": "Women's cut", "duration_minutes": "50", "buffer_minutes": "10", "price": "138", "sort_order": "1"},
    )
    assert edit.status_code == 302
    assert owner.post(f"/settings/catalog/services/{service.pk}/active/", {"active": "0"}).status_code == 302
    with schema_context(alpha.schema):
        stored = Service.objects.get()
        assert (stored.duration_minutes, stored.price, stored.is_active) == (50, 13800, False)
        assert AuditEntry.objects.get(action="catalog.service.updated", data__price__isnull=False).data["price"] == [
            12800,
            13800,
        ]


def test_price_grid_saves_tier_and_level_prices(owner, alpha):
    # given
    with schema_context(alpha.schema):
        cut = haircut()
        gold = tier("Gold", 30)
        director = level("Director", 40)
        services.price_rule_create(service=cut, tier=gold, price=10800)
    page = owner.get(f"/settings/catalog/services/{cut.pk}/prices/").content.decode()
    assert "Gold" in page and "Director" in page and f'name="cell_{gold.pk}_any" value="108.00"' in page
    assert f'<label class="sr-only" for="id_cell_{gold.pk}_{director.pk}">Gold × Director</label>' in page
    # when the grid is saved: a pair price, a level price, the gold price cleared
    response = owner.post(
        f"/settings/catalog/services/{cut.pk}/prices/",
        {f"cell_{gold.pk}_{director.pk}": "268", f"cell_any_{director.pk}": "238", f"cell_{gold.pk}_any": ""},
    )
    # then
    assert response.status_code == 302
    with schema_context(alpha.schema):
        assert sorted(PriceRule.objects.values_list("tier_id", "staff_level_id", "price"), key=str) == sorted(
            [(gold.pk, director.pk, 26800), (None, director.pk, 23800)], key=str
        )
    bad = owner.post(f"/settings/catalog/services/{cut.pk}/prices/", {f"cell_any_{director.pk}": "-1"})
    assert bad.status_code == 200 and errors_in(bad) == 1
    overview = owner.get("/settings/catalog/price-rules/").content.decode()
    assert "¥268.00" in overview and "¥238.00" in overview


def test_products_with_image_stock_and_errors(owner, alpha, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with schema_context(alpha.schema):
        supplier = services.supplier_create(name="Supply Co")
        category = services.product_category_create(name="Hair care")
    response = owner.post(
        "/settings/catalog/products/new/",
        {
            "name": "Repair shampoo",
            "brand": "Aveda",
            "spec": "500 ml",
            "price": "98",
            "cost": "40",
            "barcode": "690123",
            "category": category.pk,
            "supplier": supplier.pk,
            "stock": "12",
            "image": png(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context(alpha.schema):
        product = Product.objects.get()
    assert (product.price, product.cost, product.stock, product.supplier_id, product.category_id) == (
        9800,
        4000,
        12,
        supplier.pk,
        category.pk,
    )
    assert product.image.name.startswith(f"{alpha.schema}/catalog/products/")
    listing = owner.get("/settings/catalog/products/").content.decode()
    assert "Repair shampoo" in listing and "¥98.00" in listing and "¥40.00" in listing and "Supply Co" in listing
    # the stock figure changes on the edit page and is audited
    edit = owner.post(
        f"/settings/catalog/products/{product.pk}/",
        {
            "name": "Repair shampoo",
            "brand": "Aveda",
            "spec": "500 ml",
            "price": "98",
            "cost": "40",
            "barcode": "690123",
            "stock": "9",
        },
    )
    assert edit.status_code == 302
    # errors: a barcode taken, a file that is not an image
    dup = owner.post(
        "/settings/catalog/products/new/",
        {"name": "Other", "price": "1", "barcode": "690123", "stock": "0"},
    )
    assert dup.status_code == 200 and "Another product already has this barcode." in dup.content.decode()
    fake = owner.post(
        "/settings/catalog/products/new/",
        {"name": "Other", "price": "1", "stock": "0", "image": png().__class__("x.png", b"not an image")},
    )
    assert fake.status_code == 200 and "This file is not an image." in fake.content.decode()
    with schema_context(alpha.schema):
        assert list(Product.objects.values_list("name", "stock")) == [("Repair shampoo", 9)]
        assert AuditEntry.objects.filter(action="catalog.product.stock_set").count() == 2


def test_categories_suppliers_levels_and_groups(owner, alpha):
    assert (
        owner.post("/settings/catalog/service-categories/", {"name": "Cutting", "sort_order": "1"}).status_code == 302
    )
    dup = owner.post("/settings/catalog/service-categories/", {"name": "CUTTING", "sort_order": "1"})
    assert dup.status_code == 200 and errors_in(dup) == 1
    assert (
        owner.post("/settings/catalog/product-categories/", {"name": "Hair care", "sort_order": "0"}).status_code == 302
    )
    assert owner.post("/settings/catalog/suppliers/new/", {"name": "Supply Co", "phone": "020-1"}).status_code == 302
    assert owner.post("/settings/catalog/staff-levels/", {"name": "Director", "rank": "40"}).status_code == 302
    same_rank = owner.post("/settings/catalog/staff-levels/", {"name": "Boss", "rank": "40"})
    assert "Another staff level already has this rank." in same_rank.content.decode()
    assert owner.post("/settings/catalog/staff-groups/", {"name": "Colour team"}).status_code == 302
    with schema_context(alpha.schema):
        category = ServiceCategory.objects.get()
        supplier = Supplier.objects.get()
        staff_level = StaffLevel.objects.get()
        assert ProductCategory.objects.get().name == "Hair care"
    assert (
        owner.post(
            f"/settings/catalog/service-categories/{category.pk}/", {"name": "Cuts", "sort_order": "2"}
        ).status_code
        == 302
    )
    assert owner.post(f"/settings/catalog/suppliers/{supplier.pk}/active/", {"active": "0"}).status_code == 302
    assert (
        owner.post(
            f"/settings/catalog/staff-levels/{staff_level.pk}/", {"name": "Art director", "rank": "41"}
        ).status_code
        == 302
    )
    with schema_context(alpha.schema):
        assert ServiceCategory.objects.get().name == "Cuts"
        assert Supplier.objects.get().is_active is False
        assert (StaffLevel.objects.get().name, StaffLevel.objects.get().rank) == ("Art director", 41)
    assert "Colour team" in owner.get("/settings/catalog/staff-groups/").content.decode()


def test_package_and_course_card_with_lines(owner, alpha):
    with schema_context(alpha.schema):
        cut = haircut()
        product = shampoo()
    created = owner.post("/settings/catalog/packages/new/", {"name": "Wedding", "price": "588", "validity_days": "90"})
    with schema_context(alpha.schema):
        package = Package.objects.get()
    assert created["Location"] == f"/settings/catalog/packages/{package.pk}/"
    assert (
        owner.post(
            f"/settings/catalog/packages/{package.pk}/items/", {"item-service": cut.pk, "item-quantity": "2"}
        ).status_code
        == 302
    )
    both = owner.post(
        f"/settings/catalog/packages/{package.pk}/items/",
        {"item-service": cut.pk, "item-product": product.pk, "item-quantity": "1"},
    )
    assert both.status_code == 400 and "Choose either a service or a product" in both.content.decode()
    owner.post(f"/settings/catalog/packages/{package.pk}/items/", {"item-product": product.pk, "item-quantity": "1"})
    listing = owner.get("/settings/catalog/packages/").content.decode()
    assert "Women&#x27;s cut × 2" in listing and "¥588.00" in listing and "90 days" in listing
    created = owner.post(
        "/settings/catalog/course-cards/new/", {"name": "Cut ×10", "price": "1000", "validity_days": "365"}
    )
    with schema_context(alpha.schema):
        card = CourseCardTemplate.objects.get()
    added = owner.post(
        f"/settings/catalog/course-cards/{card.pk}/items/",
        {"item-service": cut.pk, "item-sessions": "10"},
        HTTP_HX_REQUEST="true",
    )
    assert added.status_code == 200 and 'id="card-items"' in added.content.decode()
    zero = owner.post("/settings/catalog/course-cards/new/", {"name": "Bad card", "price": "1", "validity_days": "0"})
    assert zero.status_code == 200 and "The validity must be from 1 to 3,650 days." in zero.content.decode()
    with schema_context(alpha.schema):
        assert [(i.service_id, i.quantity) for i in package.items.order_by("pk")] == [(cut.pk, 2), (None, 1)]
        assert [(i.service_id, i.sessions) for i in card.items.all()] == [(cut.pk, 10)]
        assert CourseCardTemplate.objects.count() == 1


def test_list_pages_use_a_fixed_number_of_queries(owner, alpha, django_assert_max_num_queries):
    with schema_context(alpha.schema):
        category = services.service_category_create(name="Colour")
        dye = shampoo(name="Dye", barcode="")
        director = level("Director", 40)
        for i in range(15):
            service = services.service_create(
                name=f"Colour {i}",
                category=category,
                duration_minutes=60,
                price=100,
                materials=[services.MaterialSpec(product=dye, quantity=1)],
            )
            services.price_rule_create(service=service, staff_level=director, price=200)
            shampoo(name=f"S{i}", barcode=f"B{i}", supplier=services.supplier_create(name=f"Sup {i}"))
            services.package_create(name=f"P{i}", price=1, items=[services.PackageItemSpec(service=service)])
            services.course_card_template_create(
                name=f"C{i}",
                price=1,
                validity_days=30,
                items=[services.CourseCardItemSpec(service=service, sessions=5)],
            )
    for url in (
        "/settings/catalog/services/",
        "/settings/catalog/products/",
        "/settings/catalog/packages/",
        "/settings/catalog/course-cards/",
        "/settings/catalog/price-rules/",
        "/settings/catalog/suppliers/",
        "/settings/catalog/service-categories/",
    ):
        owner.get(url)
        with django_assert_max_num_queries(16):
            response = owner.get(url)
        assert response.status_code == 200
