"""Catalogue API (SPEC §4): CRUD through the services, permissions, hidden cost, isolation."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.catalog import services
from apps.catalog.models import Package, PriceRule, Product, Service
from apps.catalog.tests.helpers import haircut, level, png, shampoo, tier
from apps.core.models import AuditEntry
from tests.fixtures import api_token, make_staff


def api(info, username: str) -> Client:
    return Client(HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}")


@pytest.fixture
def owner_api(alpha) -> Client:
    return api(alpha, alpha.owner_username)


@pytest.fixture
def tech_api(alpha) -> Client:
    make_staff(alpha, role="technician", username="tech")
    return api(alpha, "tech")


def test_service_crud_with_materials(alpha, owner_api):
    # given
    with schema_context(alpha.schema):
        category = services.service_category_create(name="Colour")
        dye = shampoo(name="Hair dye", barcode="")
    # when
    created = owner_api.post(
        "/api/v1/services/",
        {
            "name": "Full colour",
            "category": category.pk,
            "duration_minutes": 120,
            "buffer_minutes": 15,
            "price": 38800,
            "description": "Root to tip",
            "suits": "Grey coverage",
            "materials": [{"product": dye.pk, "quantity": "60", "unit": "g"}],
        },
        content_type="application/json",
    )
    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {
        "id": body["id"],
        "name": "Full colour",
        "category": category.pk,
        "duration_minutes": 120,
        "buffer_minutes": 15,
        "price": 38800,
        "description": "Root to tip",
        "suits": "Grey coverage",
        "materials": [{"product": dye.pk, "product_name": "Hair dye", "quantity": "60.000", "unit": "g"}],
        "sort_order": 0,
        "is_active": True,
    }
    listing = owner_api.get("/api/v1/services/").json()
    assert set(listing) == {"count", "next", "previous", "results"}
    assert (listing["count"], listing["results"][0]["name"]) == (1, "Full colour")
    patched = owner_api.patch(
        f"/api/v1/services/{body['id']}/", {"price": 39800, "materials": []}, content_type="application/json"
    )
    assert (patched.status_code, patched.json()["price"], patched.json()["materials"]) == (200, 39800, [])
    assert owner_api.delete(f"/api/v1/services/{body['id']}/").status_code == 204
    assert owner_api.get(f"/api/v1/services/{body['id']}/").json()["is_active"] is False
    assert owner_api.get("/api/v1/services/?is_active=true").json()["count"] == 0
    assert owner_api.put(f"/api/v1/services/{body['id']}/", {}, content_type="application/json").status_code == 405
    with schema_context(alpha.schema):
        assert AuditEntry.objects.get(action="catalog.service.updated", data__changed=["price"]).data["price"] == [
            38800,
            39800,
        ]


def test_service_errors_are_field_messages(alpha, owner_api):
    with schema_context(alpha.schema):
        haircut(name="Cut")
    cases = [
        ({"name": "CUT", "duration_minutes": 30, "price": 100}, "name"),
        ({"name": "A", "duration_minutes": 0, "price": 100}, "duration_minutes"),
        ({"name": "A", "duration_minutes": 30, "price": -1}, "price"),
        ({"name": "A", "duration_minutes": 30, "price": 10**15}, "price"),
        ({"name": "A", "duration_minutes": 30, "price": 100, "buffer_minutes": -1}, "buffer_minutes"),
        ({"duration_minutes": 30, "price": 100}, "name"),
        ({"name": "A", "duration_minutes": 30, "price": 100, "materials": [{"product": 999999, "quantity": 1}]}, None),
    ]
    for body, field in cases:
        response = owner_api.post("/api/v1/services/", body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)
        if field:
            assert list(response.json()) == [field], response.json()
    with schema_context(alpha.schema):
        assert list(Service.objects.values_list("name", flat=True)) == ["Cut"]


def test_technician_reads_but_cannot_write(alpha, owner_api, tech_api):
    # given
    with schema_context(alpha.schema):
        service = haircut()
        product = shampoo()
    # when a technician writes
    attempts = [
        tech_api.post(
            "/api/v1/services/", {"name": "X", "duration_minutes": 5, "price": 1}, content_type="application/json"
        ),
        tech_api.patch(f"/api/v1/services/{service.pk}/", {"price": 1}, content_type="application/json"),
        tech_api.delete(f"/api/v1/products/{product.pk}/"),
        tech_api.patch(f"/api/v1/products/{product.pk}/", {"stock": 99}, content_type="application/json"),
        tech_api.post("/api/v1/price-rules/", {"service": service.pk, "price": 1}, content_type="application/json"),
        tech_api.post("/api/v1/staff-levels/", {"name": "L", "rank": 1}, content_type="application/json"),
    ]
    # then every write is refused and nothing changed
    assert [r.status_code for r in attempts] == [403] * 6
    with schema_context(alpha.schema):
        assert list(Service.objects.values_list("name", "price", "is_active")) == [("Women's cut", 12800, True)]
        assert Product.objects.get().stock == 0 and Product.objects.get().is_active
    # but reading works
    assert tech_api.get("/api/v1/services/").json()["count"] == 1
    assert tech_api.get(f"/api/v1/products/{product.pk}/").status_code == 200
    assert Client(HTTP_HOST=alpha.host).get("/api/v1/services/").status_code in (401, 403)


def test_product_cost_is_hidden_from_roles_that_do_not_manage_the_catalogue(alpha, owner_api, tech_api):
    with schema_context(alpha.schema):
        product = shampoo()
    make_staff(alpha, role="front_desk", username="desk")
    desk_api = api(alpha, "desk")
    fields = ["id", "name", "brand", "spec", "price", "barcode", "supplier", "category", "image", "stock", "is_active"]
    for client in (tech_api, desk_api):
        body = client.get(f"/api/v1/products/{product.pk}/").json()
        assert sorted(body) == sorted(fields)
        assert "cost" not in client.get("/api/v1/products/").json()["results"][0]
    owner_body = owner_api.get(f"/api/v1/products/{product.pk}/").json()
    assert owner_body["cost"] == 4000
    assert sorted(owner_body) == sorted([*fields, "cost"])


def test_product_crud_image_stock_and_errors(alpha, owner_api, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    with schema_context(alpha.schema):
        supplier = services.supplier_create(name="Supply Co")
    # when a product is created with an image (multipart)
    created = owner_api.post(
        "/api/v1/products/",
        {
            "name": "Shampoo",
            "brand": "Aveda",
            "price": "9800",
            "cost": "4000",
            "supplier": supplier.pk,
            "stock": "5",
            "image": png(),
        },
    )
    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["brand"], body["price"], body["cost"], body["stock"], body["supplier"]) == (
        "Shampoo",
        "Aveda",
        9800,
        4000,
        5,
        supplier.pk,
    )
    assert body["image"].startswith(f"http://{alpha.host}/media/{alpha.schema}/catalog/products/")
    patched = owner_api.patch(f"/api/v1/products/{body['id']}/", {"stock": 3}, content_type="application/json")
    assert patched.json()["stock"] == 3
    dup = owner_api.post(
        "/api/v1/products/",
        {"name": "shampoo", "brand": "AVEDA", "price": 1},
        content_type="application/json",
    )
    assert dup.status_code == 400 and list(dup.json()) == ["name"]
    bad_stock = owner_api.patch(f"/api/v1/products/{body['id']}/", {"stock": -2}, content_type="application/json")
    assert bad_stock.status_code == 400 and list(bad_stock.json()) == ["stock"]
    with schema_context(alpha.schema):
        assert Product.objects.get().stock == 3
        assert [e.data["to"] for e in AuditEntry.objects.filter(action="catalog.product.stock_set").order_by("pk")] == [
            5,
            3,
        ]


def test_packages_course_cards_suppliers_categories_levels(alpha, owner_api):
    with schema_context(alpha.schema):
        cut = haircut()
        product = shampoo()
    package = owner_api.post(
        "/api/v1/packages/",
        {
            "name": "Wedding",
            "price": 58800,
            "validity_days": 90,
            "items": [{"service": cut.pk, "quantity": 2}, {"product": product.pk}],
        },
        content_type="application/json",
    )
    assert package.status_code == 201, package.content
    assert package.json()["items"] == [
        {"service": cut.pk, "product": None, "quantity": 2},
        {"service": None, "product": product.pk, "quantity": 1},
    ]
    both = owner_api.post(
        "/api/v1/packages/",
        {"name": "Bad", "price": 1, "items": [{"service": cut.pk, "product": product.pk}]},
        content_type="application/json",
    )
    assert both.status_code == 400 and list(both.json()) == ["service"]
    card = owner_api.post(
        "/api/v1/course-card-templates/",
        {
            "name": "Scalp care ×10",
            "price": 158000,
            "validity_days": 365,
            "items": [{"service": cut.pk, "sessions": 10}],
        },
        content_type="application/json",
    )
    assert card.status_code == 201 and card.json()["items"] == [{"service": cut.pk, "sessions": 10}]
    no_validity = owner_api.post(
        "/api/v1/course-card-templates/", {"name": "C", "price": 1, "validity_days": 0}, content_type="application/json"
    )
    assert no_validity.status_code == 400 and list(no_validity.json()) == ["validity_days"]
    supplier = owner_api.post(
        "/api/v1/suppliers/", {"name": "Supply Co", "phone": "020-1"}, content_type="application/json"
    )
    assert supplier.status_code == 201 and supplier.json()["phone"] == "020-1"
    for route in ("/api/v1/service-categories/", "/api/v1/product-categories/"):
        made = owner_api.post(route, {"name": "Care", "sort_order": 2}, content_type="application/json")
        assert (made.status_code, made.json()["name"], made.json()["sort_order"]) == (201, "Care", 2)
        assert owner_api.post(route, {"name": "CARE"}, content_type="application/json").status_code == 400
        assert owner_api.delete(f"{route}{made.json()['id']}/").status_code == 204
        assert owner_api.get(f"{route}{made.json()['id']}/").json()["is_active"] is False
    staff_level = owner_api.post(
        "/api/v1/staff-levels/", {"name": "Director", "rank": 40}, content_type="application/json"
    )
    assert staff_level.status_code == 201
    same_rank = owner_api.post("/api/v1/staff-levels/", {"name": "Boss", "rank": 40}, content_type="application/json")
    assert same_rank.status_code == 400 and list(same_rank.json()) == ["rank"]
    renamed = owner_api.patch(
        f"/api/v1/staff-levels/{staff_level.json()['id']}/", {"name": "Art director"}, content_type="application/json"
    )
    assert renamed.json() == {"id": staff_level.json()["id"], "name": "Art director", "rank": 40, "is_active": True}
    with schema_context(alpha.schema):
        assert Package.objects.get().items.count() == 2


def test_price_rules_api(alpha, owner_api):
    with schema_context(alpha.schema):
        cut = haircut()
        other = haircut(name="Other")
        gold = tier("Gold", 30)
        director = level("Director", 40)
    created = owner_api.post(
        "/api/v1/price-rules/",
        {"service": cut.pk, "tier": gold.pk, "staff_level": director.pk, "price": 26800},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json() == {
        "id": created.json()["id"],
        "service": cut.pk,
        "tier": gold.pk,
        "staff_level": director.pk,
        "price": 26800,
    }
    again = owner_api.post(
        "/api/v1/price-rules/",
        {"service": cut.pk, "tier": gold.pk, "staff_level": director.pk, "price": 1},
        content_type="application/json",
    )
    assert again.status_code == 400 and list(again.json()) == ["staff_level"]
    neither = owner_api.post("/api/v1/price-rules/", {"service": cut.pk, "price": 1}, content_type="application/json")
    assert neither.status_code == 400
    owner_api.post(
        "/api/v1/price-rules/", {"service": other.pk, "tier": gold.pk, "price": 5}, content_type="application/json"
    )
    assert owner_api.get(f"/api/v1/price-rules/?service={cut.pk}").json()["count"] == 1
    assert owner_api.get("/api/v1/price-rules/?service=abc").json()["count"] == 2
    rule_id = created.json()["id"]
    assert (
        owner_api.patch(f"/api/v1/price-rules/{rule_id}/", {"price": 27800}, content_type="application/json").json()[
            "price"
        ]
        == 27800
    )
    assert owner_api.delete(f"/api/v1/price-rules/{rule_id}/").status_code == 204
    with schema_context(alpha.schema):
        assert list(PriceRule.objects.values_list("service_id", "price")) == [(other.pk, 5)]


def test_list_query_count_does_not_grow(alpha, owner_api, django_assert_max_num_queries):
    with schema_context(alpha.schema):
        dye = shampoo(name="Dye", barcode="")
        category = services.service_category_create(name="Colour")
        for i in range(12):
            services.service_create(
                name=f"Colour {i}",
                category=category,
                duration_minutes=60,
                price=100 * i,
                materials=[services.MaterialSpec(product=dye, quantity=i + 1)],
            )
            services.package_create(
                name=f"P{i}",
                price=i,
                items=[services.PackageItemSpec(product=dye), services.PackageItemSpec(service=Service.objects.last())],
            )
            shampoo(name=f"S{i}", barcode=f"B{i}", supplier=services.supplier_create(name=f"Sup {i}"))
    for route in ("/api/v1/services/", "/api/v1/products/", "/api/v1/packages/"):
        with django_assert_max_num_queries(12):
            response = owner_api.get(route)
        assert response.json()["count"] >= 12


def test_another_salon_sees_none_of_it(alpha, beta, owner_api):
    # given alpha's catalogue
    with schema_context(alpha.schema):
        cut = haircut(name="Alpha cut")
        product = shampoo()
    beta_api = api(beta, beta.owner_username)
    # then beta, on its own domain with its own token, sees its own (empty) catalogue
    assert beta_api.get("/api/v1/services/").json()["count"] == 0
    assert beta_api.get("/api/v1/products/").json()["count"] == 0
    assert beta_api.get(f"/api/v1/services/{cut.pk}/").status_code == 404
    assert (
        beta_api.patch(f"/api/v1/products/{product.pk}/", {"price": 1}, content_type="application/json").status_code
        == 404
    )
    # and alpha's token is worthless on beta
    alpha_token = owner_api.defaults["HTTP_AUTHORIZATION"]
    assert Client(HTTP_HOST=beta.host, HTTP_AUTHORIZATION=alpha_token).get("/api/v1/services/").status_code == 401
    with schema_context(alpha.schema):
        assert Product.objects.get(pk=product.pk).price == 9800


def test_openapi_documents_the_catalogue_and_staff_without_warnings(alpha):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    # given a clean slate of generator warnings
    GENERATOR_STATS.reset()
    # when the salon's schema is generated
    schema = SchemaGenerator(urlconf="salon_platform.urls_tenant").get_schema(request=None, public=True)
    # then none of the warnings or errors come from these apps
    ours = [
        message
        for message in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if "apps/catalog" in message or "apps/scheduling" in message or "Staff" in message
    ]
    assert ours == []
    assert {
        "/api/v1/services/",
        "/api/v1/services/{id}/",
        "/api/v1/service-categories/",
        "/api/v1/product-categories/",
        "/api/v1/products/",
        "/api/v1/products/{id}/",
        "/api/v1/suppliers/",
        "/api/v1/packages/",
        "/api/v1/price-rules/",
        "/api/v1/course-card-templates/",
        "/api/v1/staff-levels/",
        "/api/v1/staff/",
        "/api/v1/staff/{id}/",
        "/api/v1/staff-groups/",
    } <= set(schema["paths"])
    staff = schema["components"]["schemas"]["StaffMember"]["properties"]
    assert {"name", "services", "level", "group", "home_location"} <= set(staff)
    assert schema["components"]["schemas"]["PaginatedServiceList"]["properties"]["results"]["type"] == "array"
