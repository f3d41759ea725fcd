"""CAT-1…5 rules kept by the catalogue's services: every bad input is a field error and writes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from apps.catalog import selectors, services
from apps.catalog.errors import CatalogError
from apps.catalog.models import (
    CourseCardTemplate,
    Package,
    PackageItem,
    Product,
    Service,
    ServiceCategory,
    ServiceMaterial,
    Supplier,
)
from apps.catalog.tests.helpers import haircut, level, not_an_image, png, shampoo
from apps.core import services as core_services
from apps.core.errors import CoreError, ServiceError
from apps.core.models import AuditEntry, StaffLevel
from tests.fixtures import owner_of


def refused(call, *args, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- services (CAT-1) --------------------------------------------------------------------------


def test_service_create_keeps_every_field_and_is_audited(in_alpha):
    # given
    owner = owner_of(in_alpha)
    cutting = services.service_category_create(name="Cutting", acting_user=owner)
    # when
    service = services.service_create(
        name="  Women's cut  ",
        category=cutting,
        description="Wash, cut and blow-dry",
        duration_minutes=45,
        buffer_minutes=10,
        price=12800,
        suits="Every hair type",
        acting_user=owner,
    )
    # then
    stored = Service.objects.get(pk=service.pk)
    assert (stored.name, stored.category, stored.duration_minutes, stored.buffer_minutes, stored.price) == (
        "Women's cut",
        cutting,
        45,
        10,
        12800,
    )
    assert (stored.description, stored.suits, stored.is_active) == ("Wash, cut and blow-dry", "Every hair type", True)
    entry = AuditEntry.objects.get(action="catalog.service.created")
    assert (entry.target_id, entry.data, entry.actor_label) == (
        str(service.pk),
        {"name": "Women's cut", "price": 12800},
        in_alpha.owner_username,
    )


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"price": -1}, CatalogError.INVALID_AMOUNT, "price"),
        ({"price": 10_000_000_001}, CatalogError.INVALID_AMOUNT, "price"),
        ({"price": 12.5}, CatalogError.INVALID_AMOUNT, "price"),
        ({"price": True}, CatalogError.INVALID_AMOUNT, "price"),
        ({"duration_minutes": 0}, CatalogError.INVALID_DURATION, "duration_minutes"),
        ({"duration_minutes": 1441}, CatalogError.INVALID_DURATION, "duration_minutes"),
        ({"buffer_minutes": -5}, CatalogError.INVALID_BUFFER, "buffer_minutes"),
        ({"name": "   "}, CatalogError.NAME_REQUIRED, "name"),
        ({"name": "x" * 101}, CatalogError.TEXT_TOO_LONG, "name"),
        ({"name": "WOMEN'S CUT"}, CatalogError.DUPLICATE_NAME, "name"),
        ({"sort_order": 10**9}, CatalogError.INVALID_SORT_ORDER, "sort_order"),
    ],
)
def test_service_bad_input_is_a_field_error_and_writes_nothing(in_alpha, changes, code, field):
    # given
    owner = owner_of(in_alpha)
    original = haircut(actor=owner)
    trim = haircut(actor=owner, name="Fringe trim")
    audits = AuditEntry.objects.count()
    values = {"name": "Men's cut", "duration_minutes": 30, "price": 6800} | changes
    # when
    created = refused(services.service_create, acting_user=owner, **values)
    updated = refused(services.service_update, service=trim, acting_user=owner, **changes)
    # then
    for error in (created, updated):
        assert error.code == code
        assert error.errors == {field: [str(error.message)]}
        assert error.status == 400
    assert sorted(Service.objects.values_list("name", flat=True)) == ["Fringe trim", "Women's cut"]
    assert Service.objects.get(pk=original.pk).price == 12800
    assert Service.objects.get(name="Fringe trim").price == 12800
    assert AuditEntry.objects.count() == audits


def test_service_update_audits_price_change_with_old_and_new(in_alpha):
    # given
    owner = owner_of(in_alpha)
    service = haircut(actor=owner)
    # when
    services.service_update(service=service, price=13800, suits="Long hair", acting_user=owner)
    # then
    assert Service.objects.get(pk=service.pk).price == 13800
    entry = AuditEntry.objects.get(action="catalog.service.updated")
    assert entry.data == {"changed": ["price", "suits"], "price": [12800, 13800]}


def test_service_update_without_changes_writes_no_audit(in_alpha):
    owner = owner_of(in_alpha)
    service = haircut(actor=owner)
    services.service_update(service=service, price=12800, acting_user=owner)
    assert not AuditEntry.objects.filter(action="catalog.service.updated").exists()


def test_service_deactivate_keeps_the_row(in_alpha):
    owner = owner_of(in_alpha)
    service = haircut(actor=owner)
    services.service_deactivate(service=service, acting_user=owner)
    assert Service.objects.get(pk=service.pk).is_active is False
    assert list(selectors.service_list(include_inactive=False)) == []


def test_names_are_unique_per_salon_not_across_salons(alpha, beta):
    # given a service and category named the same in beta
    with schema_context(beta.schema):
        haircut(name="Women's cut")
        services.service_category_create(name="Cutting")
    # when alpha creates the same names
    with schema_context(alpha.schema):
        service = haircut(name="Women's cut")
        category = services.service_category_create(name="Cutting")
        # then they are alpha's own
        assert [s.pk for s in selectors.service_list()] == [service.pk]
        assert list(ServiceCategory.objects.values_list("pk", flat=True)) == [category.pk]
    with schema_context(beta.schema):
        assert Service.objects.count() == 1


def test_database_refuses_what_the_services_refuse(in_alpha):
    # given rows written around the services (the constraints are the backstop)
    service = haircut()
    product = shampoo()
    for write in (
        lambda: Service.objects.filter(pk=service.pk).update(price=-1),
        lambda: Service.objects.filter(pk=service.pk).update(duration_minutes=0),
        lambda: Service.objects.create(name="women'S CUT", duration_minutes=5, price=1),
        lambda: Product.objects.filter(pk=product.pk).update(stock=-1),
        lambda: Product.objects.create(name="Other", price=1, barcode=product.barcode),
        lambda: PackageItem.objects.create(package=services.package_create(name="P", price=1), quantity=1),
        lambda: ServiceMaterial.objects.create(service=service, product=product, quantity=0),
        lambda: StaffLevel.objects.create(name="x", rank=-1),
    ):
        # when / then
        with pytest.raises(IntegrityError), transaction.atomic():
            write()
    assert Service.objects.get(pk=service.pk).price == 12800


# --- categories --------------------------------------------------------------------------------


def test_categories_rules(in_alpha):
    owner = owner_of(in_alpha)
    cutting = services.service_category_create(name="Cutting", sort_order=1, acting_user=owner)
    hair_care = services.product_category_create(name="Hair care", acting_user=owner)
    services.product_category_create(name="Cutting", acting_user=owner)  # another table: allowed

    assert refused(services.service_category_create, name="cutting").code == CatalogError.DUPLICATE_NAME
    assert refused(services.product_category_create, name="HAIR CARE").code == CatalogError.DUPLICATE_NAME
    assert refused(services.service_category_create, name="").errors == {"name": ["Enter a name."]}

    services.service_category_update(category=cutting, name="Cuts", sort_order=2, acting_user=owner)
    services.product_category_deactivate(category=hair_care, acting_user=owner)
    assert ServiceCategory.objects.get(pk=cutting.pk).name == "Cuts"
    assert [(c.name, c.is_active) for c in selectors.product_category_list()] == [
        ("Cutting", True),
        ("Hair care", False),
    ]


# --- materials ---------------------------------------------------------------------------------


def test_service_with_materials_and_their_rules(in_alpha):
    # given
    owner = owner_of(in_alpha)
    dye = shampoo(name="Hair dye", barcode="690000000001", actor=owner)
    developer = shampoo(name="Developer", barcode="690000000002", actor=owner)
    # when
    colour = services.service_create(
        name="Full colour",
        duration_minutes=120,
        price=38800,
        materials=[
            services.MaterialSpec(product=dye, quantity="60", unit="g"),
            services.MaterialSpec(product=developer, quantity=Decimal("90.5"), unit="ml"),
        ],
        acting_user=owner,
    )
    # then
    assert [(m.product.name, m.quantity, m.unit) for m in colour.materials.order_by("pk")] == [
        ("Hair dye", Decimal("60.000"), "g"),
        ("Developer", Decimal("90.500"), "ml"),
    ]
    # a product is listed once; a quantity is positive; all or nothing
    assert refused(services.service_material_add, service=colour, product=dye, quantity=1, acting_user=owner).code == (
        CatalogError.DUPLICATE_MATERIAL
    )
    for bad in (0, -1, "abc", "0.0001", "NaN"):
        other = shampoo(name=f"x{bad}", barcode="", actor=owner)
        error = refused(services.service_material_add, service=colour, product=other, quantity=bad, acting_user=owner)
        assert error.errors == {"quantity": [str(error.message)]}
    error = refused(
        services.service_materials_set,
        service=colour,
        materials=[services.MaterialSpec(product=dye, quantity=30), services.MaterialSpec(product=dye, quantity=40)],
        acting_user=owner,
    )
    assert error.code == CatalogError.DUPLICATE_MATERIAL
    assert colour.materials.count() == 2  # unchanged by the refused replacement
    services.service_material_remove(material=colour.materials.get(product=developer), acting_user=owner)
    assert list(colour.materials.values_list("product__name", flat=True)) == ["Hair dye"]
    refused_create = refused(
        services.service_create,
        name="Half colour",
        duration_minutes=60,
        price=1,
        materials=[services.MaterialSpec(product=dye, quantity=0)],
    )
    assert refused_create.code == CatalogError.INVALID_QUANTITY
    assert not Service.objects.filter(name="Half colour").exists()


# --- suppliers and products (CAT-2) ------------------------------------------------------------


def test_supplier_rules(in_alpha):
    owner = owner_of(in_alpha)
    supplier = services.supplier_create(
        name="Guangzhou Beauty Supply", contact="Ms Li", phone="020-12345678", acting_user=owner
    )
    assert refused(services.supplier_create, name="guangzhou beauty supply").code == CatalogError.DUPLICATE_NAME
    assert refused(services.supplier_update, supplier=supplier, name=" ", acting_user=owner).field == "name"
    services.supplier_update(supplier=supplier, address="Tianhe Rd 1", acting_user=owner)
    services.supplier_deactivate(supplier=supplier, acting_user=owner)
    stored = Supplier.objects.get(pk=supplier.pk)
    assert (stored.name, stored.contact, stored.address, stored.is_active) == (
        "Guangzhou Beauty Supply",
        "Ms Li",
        "Tianhe Rd 1",
        False,
    )


def test_product_create_with_everything(in_alpha, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    owner = owner_of(in_alpha)
    supplier = services.supplier_create(name="Supply Co", acting_user=owner)
    category = services.product_category_create(name="Hair care", acting_user=owner)
    # when
    product = shampoo(actor=owner, supplier=supplier, category=category, image=png(), stock=12)
    # then
    stored = Product.objects.get(pk=product.pk)
    assert (stored.name, stored.brand, stored.spec, stored.cost, stored.price, stored.barcode, stored.stock) == (
        "Repair shampoo",
        "L'Oréal",
        "500 ml",
        4000,
        9800,
        "6901234567890",
        12,
    )
    assert (stored.supplier, stored.category) == (supplier, category)
    assert stored.image.name.startswith(f"{in_alpha.schema}/catalog/products/")
    assert stored.image.name.endswith(".png")
    assert (tmp_path / stored.image.name).exists()
    stock = AuditEntry.objects.get(action="catalog.product.stock_set")
    assert stock.data == {"from": 0, "to": 12, "reason": "opening stock"}


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"price": -100}, CatalogError.INVALID_AMOUNT, "price"),
        ({"cost": -1}, CatalogError.INVALID_AMOUNT, "cost"),
        ({"barcode": "6901234567890"}, CatalogError.DUPLICATE_BARCODE, "barcode"),
        ({"name": "repair SHAMPOO", "brand": "l'oréal", "spec": "500 ML"}, CatalogError.DUPLICATE_PRODUCT, "name"),
        ({"stock": -1}, CatalogError.INVALID_STOCK, "stock"),
        ({"name": ""}, CatalogError.NAME_REQUIRED, "name"),
        ({"barcode": "1" * 65}, CatalogError.TEXT_TOO_LONG, "barcode"),
    ],
)
def test_product_bad_input_is_a_field_error_and_writes_nothing(in_alpha, values, code, field):
    # given
    owner = owner_of(in_alpha)
    shampoo(actor=owner)
    audits = AuditEntry.objects.count()
    # when
    error = refused(services.product_create, **({"name": "Conditioner", "price": 100, "barcode": ""} | values))
    # then
    assert error.code == code
    assert error.errors == {field: [str(error.message)]}
    assert list(Product.objects.values_list("name", flat=True)) == ["Repair shampoo"]
    assert AuditEntry.objects.count() == audits


def test_same_product_name_in_another_size_or_brand_is_allowed(in_alpha):
    shampoo(barcode="1")
    shampoo(barcode="2", spec="1000 ml")
    shampoo(barcode="3", brand="Schwarzkopf")
    assert Product.objects.count() == 3


def test_product_image_must_be_a_small_image(in_alpha, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    settings.UPLOAD_IMAGE_MAX_BYTES = 2000
    owner = owner_of(in_alpha)
    product = shampoo(actor=owner)
    # when
    fake = refused(services.product_update, product=product, image=not_an_image(), acting_user=owner)
    big = refused(services.product_update, product=product, image=png(size=(800, 800)), acting_user=owner)
    # then
    assert fake.code == CatalogError.INVALID_IMAGE
    assert fake.errors == {"image": [str(fake.message)]}
    assert big.code == CatalogError.INVALID_IMAGE and big.field == "image"
    assert Product.objects.get(pk=product.pk).image.name == ""
    assert not list(tmp_path.rglob("*.png"))


def test_product_image_replaced_and_removed(in_alpha, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    owner = owner_of(in_alpha)
    product = shampoo(actor=owner, image=png("first.png"))
    first = Product.objects.get(pk=product.pk).image.name
    with django_capture_on_commit_callbacks(execute=True):
        services.product_update(product=product, image=png("second.png"), acting_user=owner)
    second = Product.objects.get(pk=product.pk).image.name
    assert second != first and (tmp_path / second).exists() and not (tmp_path / first).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.product_update(product=product, remove_image=True, acting_user=owner)
    assert Product.objects.get(pk=product.pk).image.name == ""
    assert not (tmp_path / second).exists()


def test_product_update_audits_price_and_cost(in_alpha):
    owner = owner_of(in_alpha)
    product = shampoo(actor=owner)
    services.product_update(product=product, price=10800, cost=4500, brand="Kérastase", acting_user=owner)
    entry = AuditEntry.objects.get(action="catalog.product.updated")
    assert entry.data == {"changed": ["brand", "cost", "price"], "price": [9800, 10800], "cost": [4000, 4500]}
    services.product_deactivate(product=product, acting_user=owner)
    assert Product.objects.get(pk=product.pk).is_active is False


def test_product_update_refuses_taking_another_products_barcode_or_identity(in_alpha):
    owner = owner_of(in_alpha)
    shampoo(actor=owner)
    other = shampoo(actor=owner, name="Conditioner", barcode="42")
    assert refused(services.product_update, product=other, barcode="6901234567890", acting_user=owner).field == (
        "barcode"
    )
    assert refused(services.product_update, product=other, name="repair shampoo", acting_user=owner).code == (
        CatalogError.DUPLICATE_PRODUCT
    )
    stored = Product.objects.get(pk=other.pk)
    assert (stored.name, stored.barcode) == ("Conditioner", "42")


def test_stock_is_set_only_through_its_service_and_audited(in_alpha):
    # given
    owner = owner_of(in_alpha)
    product = shampoo(actor=owner)
    # when
    services.product_stock_set(product=product, stock=30, reason="delivery counted", acting_user=owner)
    services.product_update(product=product, stock=28, acting_user=owner)
    services.product_stock_set(product=product, stock=28, acting_user=owner)  # no change, no entry
    # then
    assert Product.objects.get(pk=product.pk).stock == 28
    assert [e.data for e in AuditEntry.objects.filter(action="catalog.product.stock_set").order_by("pk")] == [
        {"from": 0, "to": 30, "reason": "delivery counted"},
        {"from": 30, "to": 28, "reason": "count"},
    ]
    for bad in (-1, 1_000_001, "5", None):
        error = refused(services.product_stock_set, product=product, stock=bad, acting_user=owner)
        assert (error.code, error.errors) == (CatalogError.INVALID_STOCK, {"stock": [str(error.message)]})
    assert Product.objects.get(pk=product.pk).stock == 28


# --- packages (CAT-3) --------------------------------------------------------------------------


def test_package_with_items(in_alpha):
    # given
    owner = owner_of(in_alpha)
    cut = haircut(actor=owner)
    product = shampoo(actor=owner)
    # when
    package = services.package_create(
        name="Wedding package",
        price=58800,
        validity_days=90,
        items=[
            services.PackageItemSpec(service=cut, quantity=2),
            services.PackageItemSpec(product=product, quantity=1),
        ],
        acting_user=owner,
    )
    # then
    assert [(i.service_id, i.product_id, i.quantity) for i in package.items.order_by("pk")] == [
        (cut.pk, None, 2),
        (None, product.pk, 1),
    ]
    assert (package.price, package.validity_days) == (58800, 90)


@pytest.mark.parametrize(
    ("spec", "code", "field"),
    [
        ({}, CatalogError.ITEM_NEEDS_ONE_TARGET, "service"),
        ({"service": True, "product": True}, CatalogError.ITEM_NEEDS_ONE_TARGET, "service"),
        ({"service": True, "quantity": 0}, CatalogError.INVALID_QUANTITY, "quantity"),
        ({"service": True, "again": True}, CatalogError.DUPLICATE_ITEM, "service"),
        ({"product": True, "again": True}, CatalogError.DUPLICATE_ITEM, "product"),
    ],
)
def test_package_item_bad_input_writes_nothing(in_alpha, spec, code, field):
    # given
    owner = owner_of(in_alpha)
    cut = haircut(actor=owner)
    product = shampoo(actor=owner)
    item = services.PackageItemSpec(
        service=cut if spec.get("service") else None,
        product=product if spec.get("product") else None,
        quantity=spec.get("quantity", 1),
    )
    items = [item, item] if spec.get("again") else [item]
    # when
    error = refused(services.package_create, name="Bad", price=100, items=items, acting_user=owner)
    # then
    assert error.code == code
    assert error.errors == {field: [str(error.message)]}
    assert not Package.objects.exists()
    assert not PackageItem.objects.exists()


def test_package_rules_and_item_changes(in_alpha):
    owner = owner_of(in_alpha)
    cut = haircut(actor=owner)
    package = services.package_create(name="Care package", price=30000, acting_user=owner)
    assert refused(services.package_create, name="CARE PACKAGE", price=1).code == CatalogError.DUPLICATE_NAME
    assert refused(services.package_create, name="P2", price=-1).field == "price"
    assert refused(services.package_create, name="P3", price=1, validity_days=0).field == "validity_days"
    item = services.package_item_add(package=package, service=cut, quantity=3, acting_user=owner)
    assert refused(services.package_item_add, package=package, service=cut, acting_user=owner).code == (
        CatalogError.DUPLICATE_ITEM
    )
    services.package_update(package=package, price=32000, validity_days=None, acting_user=owner)
    services.package_item_remove(item=item, acting_user=owner)
    services.package_deactivate(package=package, acting_user=owner)
    stored = Package.objects.get(pk=package.pk)
    assert (stored.price, stored.validity_days, stored.is_active, stored.items.count()) == (32000, None, False, 0)
    assert AuditEntry.objects.get(action="catalog.package.updated", data__changed=["price"]).data["price"] == [
        30000,
        32000,
    ]


def test_package_items_replaced_all_or_nothing(in_alpha):
    owner = owner_of(in_alpha)
    cut = haircut(actor=owner)
    product = shampoo(actor=owner)
    package = services.package_create(
        name="P", price=100, items=[services.PackageItemSpec(service=cut)], acting_user=owner
    )
    error = refused(
        services.package_update,
        package=package,
        price=200,
        items=[services.PackageItemSpec(product=product), services.PackageItemSpec()],
        acting_user=owner,
    )
    assert error.code == CatalogError.ITEM_NEEDS_ONE_TARGET
    stored = Package.objects.get(pk=package.pk)
    assert (stored.price, [i.service_id for i in stored.items.all()]) == (100, [cut.pk])


# --- course cards (CAT-5) ----------------------------------------------------------------------


def test_course_card_template_rules(in_alpha):
    # given
    owner = owner_of(in_alpha)
    cut = haircut(actor=owner)
    care = haircut(actor=owner, name="Scalp care", price=19800)
    # when
    card = services.course_card_template_create(
        name="Scalp care 10 sessions",
        price=158000,
        validity_days=365,
        items=[services.CourseCardItemSpec(service=care, sessions=10)],
        acting_user=owner,
    )
    # then
    assert [(i.service.name, i.sessions) for i in card.items.all()] == [("Scalp care", 10)]
    for values, field in (
        ({"validity_days": 0}, "validity_days"),
        ({"validity_days": None}, "validity_days"),
        ({"price": -5}, "price"),
        ({"name": "scalp care 10 SESSIONS"}, "name"),
    ):
        error = refused(
            services.course_card_template_create, **({"name": "Card", "price": 1, "validity_days": 30} | values)
        )
        assert error.field == field
    error = refused(
        services.course_card_template_create,
        name="Card",
        price=1,
        validity_days=30,
        items=[services.CourseCardItemSpec(service=cut, sessions=0)],
    )
    assert error.errors == {"sessions": ["The number of sessions must be from 1 to 1,000."]}
    assert refused(services.course_card_item_add, template=card, service=care, sessions=2, acting_user=owner).code == (
        CatalogError.DUPLICATE_ITEM
    )
    assert list(CourseCardTemplate.objects.values_list("name", flat=True)) == ["Scalp care 10 sessions"]
    services.course_card_item_add(template=card, service=cut, sessions=2, acting_user=owner)
    services.course_card_item_remove(item=card.items.get(service=care), acting_user=owner)
    services.course_card_template_update(template=card, price=168000, acting_user=owner)
    services.course_card_template_deactivate(template=card, acting_user=owner)
    stored = CourseCardTemplate.objects.get(pk=card.pk)
    assert (stored.price, stored.is_active, [(i.service_id, i.sessions) for i in stored.items.all()]) == (
        168000,
        False,
        [(cut.pk, 2)],
    )


# --- staff levels (core) -----------------------------------------------------------------------


def test_staff_level_rules(in_alpha):
    owner = owner_of(in_alpha)
    stylist = level("Stylist", 20, actor=owner)
    level("Director", 40, actor=owner)
    assert refused(core_services.staff_level_create, name="STYLIST", rank=30).code == CoreError.DUPLICATE_STAFF_LEVEL
    assert refused(core_services.staff_level_create, name="Senior", rank=40).errors == {
        "rank": ["Another staff level already has this rank."]
    }
    assert refused(core_services.staff_level_create, name="Senior", rank=-1).field == "rank"
    assert refused(core_services.staff_level_create, name="", rank=1).field == "name"
    assert refused(core_services.staff_level_update, level=stylist, rank=40, acting_user=owner).field == "rank"
    core_services.staff_level_update(level=stylist, name="Hair stylist", rank=25, acting_user=owner)
    core_services.staff_level_deactivate(level=stylist, acting_user=owner)
    assert [(lv.name, lv.rank, lv.is_active) for lv in selectors.staff_level_list()] == [
        ("Director", 40, True),
        ("Hair stylist", 25, False),
    ]
    assert AuditEntry.objects.filter(action__startswith="staff_level.").count() == 4


def test_product_image_may_not_declare_too_many_pixels(in_alpha, settings, tmp_path):
    # given a small file whose picture is larger than the limit
    settings.MEDIA_ROOT = tmp_path
    settings.UPLOAD_IMAGE_MAX_PIXELS = 100 * 100
    # when
    error = refused(services.product_create, name="Big", price=1, image=png(size=(101, 100)))
    # then
    assert error.errors == {"image": ["The image is too large: at most 0.01 million pixels."]}
    assert not Product.objects.exists()
