"""Stock through the API: levels per location (with low-stock alert levels), the movement ledger,
adjustments by hand, material units and the salon's inventory settings. Thin: check the shape, call one
service, serialise."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.models import Product
from apps.core.models import Location
from apps.core.permissions import HasRolePermission, acting_user
from apps.inventory import selectors
from apps.inventory.api._common import bool_param, choice_param, date_param, int_param, quantity_field
from apps.inventory.models import AdjustmentReason, MaterialUnit, MovementKind, StockLevel, StockMovement
from apps.inventory.services import setup as setup_services
from apps.inventory.services import stock as stock_services


class StockLevelSerializer(serializers.ModelSerializer):
    location_name = serializers.CharField(source="location.name", read_only=True)
    product_name = serializers.CharField(source="product.__str__", read_only=True)
    quantity = quantity_field(read_only=True)
    reorder_level = quantity_field(allow_null=True, required=False)
    is_low = serializers.BooleanField(read_only=True)
    is_negative = serializers.BooleanField(read_only=True)

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "location",
            "location_name",
            "product",
            "product_name",
            "quantity",
            "reorder_level",
            "is_low",
            "is_negative",
            "negative_since",
            "updated_at",
        ]
        read_only_fields = ["id", "negative_since", "updated_at"]


class AlertLevelSerializer(serializers.Serializer):
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    reorder_level = quantity_field(allow_null=True, help_text="At or below this the product is low; null: no alert")


class StockLevelListView(GenericAPIView):
    """``/api/v1/stock-levels/``: what each location holds of each product (``?location=``, ``?product=``,
    ``?low=true`` for those at or below their alert level, ``?negative=true``). Anyone signed in reads.
    POST ``{location, product, reorder_level}`` sets the low-stock alert level (``manage_inventory``);
    quantities change only through movements."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_inventory"
    serializer_class = StockLevelSerializer

    def get_queryset(self) -> QuerySet[StockLevel]:
        params = self.request.query_params
        return selectors.stock_levels(
            location=int_param(params, "location"),
            product=int_param(params, "product"),
            low_only=bool_param(params, "low"),
            negative_only=bool_param(params, "negative"),
        )

    @extend_schema(responses=StockLevelSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(StockLevelSerializer(page, many=True).data)

    @extend_schema(request=AlertLevelSerializer, responses=StockLevelSerializer)
    def post(self, request: Request) -> Response:
        data = AlertLevelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        level = stock_services.stock_reorder_level_set(acting_user=acting_user(request), **data.validated_data)
        level = selectors.stock_levels().get(pk=level.pk)
        return Response(StockLevelSerializer(level).data)


class StockMovementSerializer(serializers.ModelSerializer):
    location_name = serializers.CharField(source="location.name", read_only=True)
    product_name = serializers.CharField(source="product.__str__", read_only=True)
    quantity = quantity_field()
    quantity_after = quantity_field()
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "location",
            "location_name",
            "product",
            "product_name",
            "kind",
            "quantity",
            "quantity_after",
            "went_negative",
            "unit_cost",
            "reason",
            "reference",
            "note",
            "purchase_order",
            "transfer",
            "stocktake",
            "actor",
            "actor_name",
            "created_at",
        ]
        read_only_fields = fields

    def get_actor_name(self, movement: StockMovement) -> str:
        return movement.actor.name if movement.actor else ""


class StockMovementListView(GenericAPIView):
    """``/api/v1/stock-movements/``: the ledger, newest first (``?product=``, ``?location=``, ``?kind=``,
    ``?from=YYYY-MM-DD``, ``?to=YYYY-MM-DD`` in the salon's calendar). ``manage_inventory``."""

    permission_classes = [HasRolePermission]
    read_permission = "manage_inventory"
    serializer_class = StockMovementSerializer

    def get_queryset(self) -> QuerySet[StockMovement]:
        params = self.request.query_params
        return selectors.movements(
            product=int_param(params, "product"),
            location=int_param(params, "location"),
            kind=choice_param(params, "kind", MovementKind.values),
            since=date_param(params, "from"),
            until=date_param(params, "to"),
        )

    @extend_schema(responses=StockMovementSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(StockMovementSerializer(page, many=True).data)


class StockAdjustmentSerializer(serializers.Serializer):
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = quantity_field(help_text="Signed: negative takes stock out")
    reason = serializers.ChoiceField(choices=AdjustmentReason.choices)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=90)


class StockAdjustmentListView(GenericAPIView):
    """``/api/v1/stock-adjustments/``: GET lists adjustments (movements of kind ``adjustment``, same filters
    as the ledger); POST records one (``manage_inventory``): ``201`` the movement, ``200`` on a replay of
    the key. Refused with ``409 insufficient_stock`` when it would take stock below zero and the salon
    forbids it."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_inventory"
    read_permission = "manage_inventory"
    serializer_class = StockAdjustmentSerializer

    @extend_schema(responses=StockMovementSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = request.query_params
        rows = selectors.movements(
            product=int_param(params, "product"),
            location=int_param(params, "location"),
            kind=MovementKind.ADJUSTMENT,
            since=date_param(params, "from"),
            until=date_param(params, "to"),
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(StockMovementSerializer(page, many=True).data)

    @extend_schema(responses=StockMovementSerializer)
    def post(self, request: Request) -> Response:
        data = StockAdjustmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = stock_services.stock_adjust(acting_user=acting_user(request), **data.validated_data)
        return Response(
            StockMovementSerializer(result.movements[0]).data,
            status=status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED,
        )


class MaterialUnitSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    unit = serializers.CharField(max_length=16)
    per_stock_unit = quantity_field(help_text="How much of the unit one unit of the product holds")

    class Meta:
        model = MaterialUnit
        fields = ["id", "product", "unit", "per_stock_unit"]
        read_only_fields = ["id"]


class MaterialUnitListView(GenericAPIView):
    """``/api/v1/material-units/``: how much of a material unit (ml, g, 片) one unit of a product holds, so
    a service's materials can be taken off stock. POST sets one (``manage_inventory``)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_inventory"
    serializer_class = MaterialUnitSerializer

    @extend_schema(responses=MaterialUnitSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.material_units())
        return self.get_paginated_response(MaterialUnitSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = MaterialUnitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = setup_services.material_unit_set(acting_user=acting_user(request), **data.validated_data)
        return Response(MaterialUnitSerializer(row).data, status=status.HTTP_201_CREATED)


class InventorySettingsSerializer(serializers.Serializer):
    allow_negative_stock = serializers.BooleanField(required=False)
    low_stock_alerts = serializers.BooleanField(required=False)


class InventorySettingsView(GenericAPIView):
    """``/api/v1/inventory-settings/``: GET by anyone signed in; PATCH (``manage_inventory``) changes the
    fields given (``allow_negative_stock`` is audited)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_inventory"
    serializer_class = InventorySettingsSerializer

    @staticmethod
    def _body(row: Any) -> dict[str, Any]:
        return {"allow_negative_stock": row.allow_negative_stock, "low_stock_alerts": row.low_stock_alerts}

    def get(self, request: Request) -> Response:
        return Response(self._body(selectors.inventory_settings()))

    def patch(self, request: Request) -> Response:
        data = InventorySettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = setup_services.inventory_settings_update(acting_user=acting_user(request), **data.validated_data)
        return Response(self._body(row))
