"""REST API of the catalogue (SPEC §4). Thin: check the shape, call one service, serialise.

Anyone signed in may read (the till and the booking screens need the catalogue); writing needs
``manage_catalog``. DELETE deactivates: services, products and the rest stay in history."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog import selectors, services
from apps.catalog.models import (
    CourseCardTemplate,
    Package,
    PriceRule,
    Product,
    ProductCategory,
    Service,
    ServiceCategory,
    Supplier,
)
from apps.core import services as core_services
from apps.core.models import StaffLevel
from apps.core.permissions import HasRolePermission, acting_user
from apps.core.roles import perm
from apps.crm.models import MembershipTier

# --- serializers -------------------------------------------------------------------------------


def _given(validated: dict[str, Any], *fields: str) -> dict[str, Any]:
    """The fields a request actually sent (a PATCH leaves the others alone)."""
    return {field: validated[field] for field in fields if field in validated}


class CategorySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=50)
    sort_order = serializers.IntegerField(required=False, default=0)
    is_active = serializers.BooleanField(required=False)


class MaterialSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    product_name = serializers.CharField(source="product.name", read_only=True)
    quantity = serializers.DecimalField(max_digits=10, decimal_places=3)
    unit = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")


class ServiceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    category = serializers.PrimaryKeyRelatedField(
        queryset=ServiceCategory.objects.all(), allow_null=True, required=False
    )
    duration_minutes = serializers.IntegerField()
    buffer_minutes = serializers.IntegerField(required=False, default=0)
    price = serializers.IntegerField(help_text="Base price in fen; see /price-rules/ for tier and staff-level prices")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    suits = serializers.CharField(required=False, allow_blank=True, default="", help_text="Who the service suits")
    materials = MaterialSerializer(many=True, required=False, help_text="Products used up by one service")
    sort_order = serializers.IntegerField(required=False, default=0)
    is_active = serializers.BooleanField(required=False)


def _material_specs(rows: list[dict[str, Any]]) -> list[services.MaterialSpec]:
    return [services.MaterialSpec(product=r["product"], quantity=r["quantity"], unit=r.get("unit", "")) for r in rows]


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    brand = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    spec = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    cost = serializers.IntegerField(
        required=False, default=0, help_text="Purchase cost in fen; shown only to roles that manage the catalogue"
    )
    price = serializers.IntegerField(help_text="Retail price in fen")
    barcode = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all(), allow_null=True, required=False)
    category = serializers.PrimaryKeyRelatedField(
        queryset=ProductCategory.objects.all(), allow_null=True, required=False
    )
    image = serializers.ImageField(required=False, allow_null=True, help_text="Upload as multipart/form-data")
    stock = serializers.IntegerField(
        required=False, default=0, help_text="Units on hand; a change is recorded as a stock count"
    )
    is_active = serializers.BooleanField(required=False)

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.has_perm(perm("manage_catalog")):
            data.pop("cost", None)
        return data


class SupplierSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    contact = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(required=False)


class PackageItemSerializer(serializers.Serializer):
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), allow_null=True, required=False)
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), allow_null=True, required=False)
    quantity = serializers.IntegerField(required=False, default=1)


class PackageSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    price = serializers.IntegerField(help_text="Package price in fen")
    validity_days = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Days the package stays valid after sale; null: always"
    )
    items = PackageItemSerializer(many=True, required=False, help_text="Each line names a service or a product")
    is_active = serializers.BooleanField(required=False)


def _package_specs(rows: list[dict[str, Any]]) -> list[services.PackageItemSpec]:
    return [
        services.PackageItemSpec(service=r.get("service"), product=r.get("product"), quantity=r.get("quantity", 1))
        for r in rows
    ]


class CourseCardItemSerializer(serializers.Serializer):
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all())
    sessions = serializers.IntegerField()


class CourseCardTemplateSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    price = serializers.IntegerField(help_text="Card price in fen")
    validity_days = serializers.IntegerField(help_text="Days the card stays valid after sale")
    items = CourseCardItemSerializer(many=True, required=False, help_text="Sessions of each service on the card")
    is_active = serializers.BooleanField(required=False)


def _card_specs(rows: list[dict[str, Any]]) -> list[services.CourseCardItemSpec]:
    return [services.CourseCardItemSpec(service=r["service"], sessions=r["sessions"]) for r in rows]


class PriceRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all())
    tier = serializers.PrimaryKeyRelatedField(
        queryset=MembershipTier.objects.all(), allow_null=True, required=False, help_text="Membership tier"
    )
    staff_level = serializers.PrimaryKeyRelatedField(queryset=StaffLevel.objects.all(), allow_null=True, required=False)
    price = serializers.IntegerField(help_text="Price in fen")


class StaffLevelSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=50)
    rank = serializers.IntegerField(help_text="Higher is more senior")
    is_active = serializers.BooleanField(required=False)


# --- views -------------------------------------------------------------------------------------


def _query_int(request: Request, name: str) -> int | None:
    try:
        return int(request.query_params.get(name, ""))
    except ValueError:
        return None


def _query_bool(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name, "").lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(value)


class _ListCreate(generics.ListCreateAPIView):
    """List (paginated) and create; ``create_with`` calls the service that creates."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_catalog"

    def create_with(self, validated: dict[str, Any], actor: Any) -> Any:
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = self.create_with(data.validated_data, acting_user(request))
        fresh = self.get_queryset().get(pk=created.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)


class _Detail(generics.RetrieveUpdateDestroyAPIView):
    """Read, change (PATCH) and deactivate (DELETE) one entry; PUT is not offered."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_catalog"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def update_with(self, instance: Any, validated: dict[str, Any], actor: Any) -> Any:
        raise NotImplementedError

    def destroy_with(self, instance: Any, actor: Any) -> None:
        raise NotImplementedError

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        data = self.get_serializer(instance, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        self.update_with(instance, data.validated_data, acting_user(request))
        return Response(self.get_serializer(self.get_queryset().get(pk=instance.pk)).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.destroy_with(self.get_object(), acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# services


class ServiceListView(_ListCreate):
    """Services (CAT-1). Filters: ``?category=<id>``, ``?is_active=true|false``, ``?search=<name>``."""

    serializer_class = ServiceSerializer

    def get_queryset(self) -> QuerySet[Service]:
        qs = selectors.service_list(search=self.request.query_params.get("search", "").strip()[:100])
        category = _query_int(self.request, "category")
        if category is not None:
            qs = qs.filter(category_id=category)
        active = _query_bool(self.request, "is_active")
        return qs if active is None else qs.filter(is_active=active)

    def create_with(self, validated: dict[str, Any], actor: Any) -> Service:
        fields = _given(
            validated, "name", "category", "duration_minutes", "buffer_minutes", "price", "description", "suits"
        )
        return services.service_create(
            **fields,
            sort_order=validated.get("sort_order", 0),
            materials=_material_specs(validated.get("materials", [])),
            acting_user=actor,
        )


class ServiceDetailView(_Detail):
    serializer_class = ServiceSerializer

    def get_queryset(self) -> QuerySet[Service]:
        return selectors.service_list()

    def update_with(self, instance: Service, validated: dict[str, Any], actor: Any) -> Service:
        fields = _given(
            validated,
            "name",
            "category",
            "duration_minutes",
            "buffer_minutes",
            "price",
            "description",
            "suits",
            "sort_order",
            "is_active",
        )
        if "materials" in validated:
            fields["materials"] = _material_specs(validated["materials"])
        return services.service_update(service=instance, acting_user=actor, **fields)

    def destroy_with(self, instance: Service, actor: Any) -> None:
        services.service_deactivate(service=instance, acting_user=actor)


# categories


class ServiceCategoryListView(_ListCreate):
    serializer_class = CategorySerializer

    def get_queryset(self) -> QuerySet[ServiceCategory]:
        return selectors.service_category_list()

    def create_with(self, validated: dict[str, Any], actor: Any) -> ServiceCategory:
        return services.service_category_create(
            name=validated["name"], sort_order=validated.get("sort_order", 0), acting_user=actor
        )


class ServiceCategoryDetailView(_Detail):
    serializer_class = CategorySerializer

    def get_queryset(self) -> QuerySet[ServiceCategory]:
        return selectors.service_category_list()

    def update_with(self, instance: ServiceCategory, validated: dict[str, Any], actor: Any) -> Any:
        fields = _given(validated, "name", "sort_order", "is_active")
        return services.service_category_update(category=instance, acting_user=actor, **fields)

    def destroy_with(self, instance: ServiceCategory, actor: Any) -> None:
        services.service_category_deactivate(category=instance, acting_user=actor)


class ProductCategoryListView(_ListCreate):
    serializer_class = CategorySerializer

    def get_queryset(self) -> QuerySet[ProductCategory]:
        return selectors.product_category_list()

    def create_with(self, validated: dict[str, Any], actor: Any) -> ProductCategory:
        return services.product_category_create(
            name=validated["name"], sort_order=validated.get("sort_order", 0), acting_user=actor
        )


class ProductCategoryDetailView(_Detail):
    serializer_class = CategorySerializer

    def get_queryset(self) -> QuerySet[ProductCategory]:
        return selectors.product_category_list()

    def update_with(self, instance: ProductCategory, validated: dict[str, Any], actor: Any) -> Any:
        fields = _given(validated, "name", "sort_order", "is_active")
        return services.product_category_update(category=instance, acting_user=actor, **fields)

    def destroy_with(self, instance: ProductCategory, actor: Any) -> None:
        services.product_category_deactivate(category=instance, acting_user=actor)


# products


class ProductListView(_ListCreate):
    """Products (CAT-2). ``cost`` is returned only to roles with ``manage_catalog``. Filters:
    ``?category=<id>``, ``?supplier=<id>``, ``?is_active=true|false``, ``?search=`` (name, brand,
    spec or exact barcode)."""

    serializer_class = ProductSerializer

    def get_queryset(self) -> QuerySet[Product]:
        qs = selectors.product_list(search=self.request.query_params.get("search", "").strip()[:100])
        for field in ("category", "supplier"):
            value = _query_int(self.request, field)
            if value is not None:
                qs = qs.filter(**{f"{field}_id": value})
        active = _query_bool(self.request, "is_active")
        return qs if active is None else qs.filter(is_active=active)

    def create_with(self, validated: dict[str, Any], actor: Any) -> Product:
        fields = _given(
            validated, "name", "brand", "spec", "cost", "price", "barcode", "supplier", "category", "image", "stock"
        )
        return services.product_create(**fields, acting_user=actor)


class ProductDetailView(_Detail):
    serializer_class = ProductSerializer

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.product_list()

    def update_with(self, instance: Product, validated: dict[str, Any], actor: Any) -> Product:
        fields = _given(
            validated, "name", "brand", "spec", "cost", "price", "barcode", "supplier", "category", "is_active"
        )
        if "image" in validated:
            if validated["image"] is None:
                fields["remove_image"] = True
            else:
                fields["image"] = validated["image"]
        if "stock" in validated:
            fields["stock"] = validated["stock"]
        return services.product_update(product=instance, acting_user=actor, **fields)

    def destroy_with(self, instance: Product, actor: Any) -> None:
        services.product_deactivate(product=instance, acting_user=actor)


# suppliers


class SupplierListView(_ListCreate):
    serializer_class = SupplierSerializer

    def get_queryset(self) -> QuerySet[Supplier]:
        return selectors.supplier_list()

    def create_with(self, validated: dict[str, Any], actor: Any) -> Supplier:
        fields = _given(validated, "name", "contact", "phone", "address", "notes")
        return services.supplier_create(**fields, acting_user=actor)


class SupplierDetailView(_Detail):
    serializer_class = SupplierSerializer

    def get_queryset(self) -> QuerySet[Supplier]:
        return selectors.supplier_list()

    def update_with(self, instance: Supplier, validated: dict[str, Any], actor: Any) -> Supplier:
        fields = _given(validated, "name", "contact", "phone", "address", "notes", "is_active")
        return services.supplier_update(supplier=instance, acting_user=actor, **fields)

    def destroy_with(self, instance: Supplier, actor: Any) -> None:
        services.supplier_deactivate(supplier=instance, acting_user=actor)


# packages


class PackageListView(_ListCreate):
    """Packages (CAT-3, 套餐): services and products sold together at one price."""

    serializer_class = PackageSerializer

    def get_queryset(self) -> QuerySet[Package]:
        return selectors.package_list()

    def create_with(self, validated: dict[str, Any], actor: Any) -> Package:
        fields = _given(validated, "name", "description", "price", "validity_days")
        return services.package_create(**fields, items=_package_specs(validated.get("items", [])), acting_user=actor)


class PackageDetailView(_Detail):
    serializer_class = PackageSerializer

    def get_queryset(self) -> QuerySet[Package]:
        return selectors.package_list()

    def update_with(self, instance: Package, validated: dict[str, Any], actor: Any) -> Package:
        fields = _given(validated, "name", "description", "price", "validity_days", "is_active")
        if "items" in validated:
            fields["items"] = _package_specs(validated["items"])
        return services.package_update(package=instance, acting_user=actor, **fields)

    def destroy_with(self, instance: Package, actor: Any) -> None:
        services.package_deactivate(package=instance, acting_user=actor)


# course-card templates


class CourseCardTemplateListView(_ListCreate):
    """Course cards on sale (CAT-5, 次卡/疗程卡): sessions of services, a price and a validity."""

    serializer_class = CourseCardTemplateSerializer

    def get_queryset(self) -> QuerySet[CourseCardTemplate]:
        return selectors.course_card_template_list()

    def create_with(self, validated: dict[str, Any], actor: Any) -> CourseCardTemplate:
        fields = _given(validated, "name", "description", "price", "validity_days")
        return services.course_card_template_create(
            **fields, items=_card_specs(validated.get("items", [])), acting_user=actor
        )


class CourseCardTemplateDetailView(_Detail):
    serializer_class = CourseCardTemplateSerializer

    def get_queryset(self) -> QuerySet[CourseCardTemplate]:
        return selectors.course_card_template_list()

    def update_with(self, instance: CourseCardTemplate, validated: dict[str, Any], actor: Any) -> CourseCardTemplate:
        fields = _given(validated, "name", "description", "price", "validity_days", "is_active")
        if "items" in validated:
            fields["items"] = _card_specs(validated["items"])
        return services.course_card_template_update(template=instance, acting_user=actor, **fields)

    def destroy_with(self, instance: CourseCardTemplate, actor: Any) -> None:
        services.course_card_template_deactivate(template=instance, acting_user=actor)


# price rules


class PriceRuleListView(_ListCreate):
    """Price rules (CAT-4). Filter: ``?service=<id>``. The most specific rule wins: tier and level,
    then level, then tier, then the service's base price."""

    serializer_class = PriceRuleSerializer

    def get_queryset(self) -> QuerySet[PriceRule]:
        qs = selectors.price_rule_list()
        service = _query_int(self.request, "service")
        return qs if service is None else qs.filter(service_id=service)

    def create_with(self, validated: dict[str, Any], actor: Any) -> PriceRule:
        return services.price_rule_create(
            service=validated["service"],
            tier=validated.get("tier"),
            staff_level=validated.get("staff_level"),
            price=validated["price"],
            acting_user=actor,
        )


class PriceRuleDetailView(_Detail):
    """Read, change the price of (PATCH ``{"price"}``) or delete one rule."""

    serializer_class = PriceRuleSerializer

    def get_queryset(self) -> QuerySet[PriceRule]:
        return selectors.price_rule_list()

    def update_with(self, instance: PriceRule, validated: dict[str, Any], actor: Any) -> PriceRule:
        if "price" not in validated:
            return instance
        return services.price_rule_update(rule=instance, price=validated["price"], acting_user=actor)

    def destroy_with(self, instance: PriceRule, actor: Any) -> None:
        services.price_rule_delete(rule=instance, acting_user=actor)


# staff levels


class StaffLevelListView(_ListCreate):
    """Staff levels (助理, 发型师, 总监 …) that price rules and staff profiles refer to."""

    serializer_class = StaffLevelSerializer

    def get_queryset(self) -> QuerySet[StaffLevel]:
        return selectors.staff_level_list()

    def create_with(self, validated: dict[str, Any], actor: Any) -> StaffLevel:
        return core_services.staff_level_create(name=validated["name"], rank=validated["rank"], acting_user=actor)


class StaffLevelDetailView(_Detail):
    serializer_class = StaffLevelSerializer

    def get_queryset(self) -> QuerySet[StaffLevel]:
        return selectors.staff_level_list()

    def update_with(self, instance: StaffLevel, validated: dict[str, Any], actor: Any) -> StaffLevel:
        fields = _given(validated, "name", "rank", "is_active")
        return core_services.staff_level_update(level=instance, acting_user=actor, **fields)

    def destroy_with(self, instance: StaffLevel, actor: Any) -> None:
        core_services.staff_level_deactivate(level=instance, acting_user=actor)
