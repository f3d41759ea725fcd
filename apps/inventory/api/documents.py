"""Purchase orders, transfers and stocktakes through the API (``manage_inventory``). Thin: check the
shape, call one service, serialise. Money in fen; quantities as strings with three decimals."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.models import Product, Supplier
from apps.catalog.services import UNSET
from apps.core.models import Location
from apps.core.permissions import HasRolePermission, acting_user
from apps.inventory import selectors
from apps.inventory.api._common import choice_param, int_param, quantity_field
from apps.inventory.api.stock import StockMovementSerializer
from apps.inventory.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    StockMovement,
    Stocktake,
    StocktakeLine,
    StocktakeStatus,
    StockTransfer,
)
from apps.inventory.services import purchasing, stocktakes, transfers
from apps.inventory.services.purchasing import OrderLineSpec


def _loaded(movements: list[StockMovement]) -> QuerySet[StockMovement]:
    """The movements again with what the serializer shows, in one query."""
    return selectors.movements().filter(pk__in=[m.pk for m in movements]).order_by("pk")


class _InventoryView(GenericAPIView):
    permission_classes = [HasRolePermission]
    required_permission = "manage_inventory"
    read_permission = "manage_inventory"


# --- purchase orders -------------------------------------------------------------------------------


class OrderLineSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.__str__", read_only=True)
    quantity_ordered = quantity_field(read_only=True)
    quantity_received = quantity_field(read_only=True)
    quantity_outstanding = quantity_field(read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "id",
            "product",
            "product_name",
            "quantity_ordered",
            "quantity_received",
            "quantity_outstanding",
            "unit_cost",
            "amount",
        ]
        read_only_fields = fields


class PurchaseOrderSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    location_name = serializers.CharField(source="location.name", read_only=True)
    lines = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "number",
            "supplier",
            "supplier_name",
            "location",
            "location_name",
            "status",
            "note",
            "expected_on",
            "lines",
            "total",
            "created_at",
            "ordered_at",
            "received_at",
            "cancelled_at",
            "cancel_reason",
        ]
        read_only_fields = fields

    def get_lines(self, order: PurchaseOrder) -> list[dict[str, Any]]:
        return OrderLineSerializer(order.lines.all(), many=True).data  # type: ignore[return-value]

    def get_total(self, order: PurchaseOrder) -> int:
        """Fen, at the ordered quantities."""
        return sum(line.amount for line in order.lines.all())


class OrderLineInSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = quantity_field()
    unit_cost = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Fen; the product's cost when left out"
    )


class PurchaseOrderInSerializer(serializers.Serializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all())
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    expected_on = serializers.DateField(required=False, allow_null=True)
    lines = OrderLineInSerializer(many=True, required=False)


def _specs(lines: list[dict[str, Any]]) -> list[OrderLineSpec]:
    return [OrderLineSpec(line["product"], line["quantity"], line["unit_cost"]) for line in lines]


def _orders() -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.select_related("supplier", "location").prefetch_related("lines__product")


class PurchaseOrderListView(_InventoryView):
    """``/api/v1/purchase-orders/`` (``?status=``, ``?supplier=``, ``?location=``); POST starts a draft
    ``{supplier, location, note, expected_on, lines: [{product, quantity, unit_cost}]}``."""

    serializer_class = PurchaseOrderInSerializer

    @extend_schema(responses=PurchaseOrderSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = request.query_params
        rows = _orders().order_by("-id")
        if value := choice_param(params, "status", PurchaseOrderStatus.values):
            rows = rows.filter(status=value)
        if (supplier := int_param(params, "supplier")) is not None:
            rows = rows.filter(supplier_id=supplier)
        if (location := int_param(params, "location")) is not None:
            rows = rows.filter(location_id=location)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(PurchaseOrderSerializer(page, many=True).data)

    @extend_schema(responses=PurchaseOrderSerializer)
    def post(self, request: Request) -> Response:
        data = PurchaseOrderInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        order = purchasing.purchase_order_create(
            supplier=v["supplier"],
            location=v["location"],
            note=v.get("note", ""),
            expected_on=v.get("expected_on"),
            lines=_specs(v.get("lines", [])),
            acting_user=acting_user(request),
        )
        return Response(PurchaseOrderSerializer(_orders().get(pk=order.pk)).data, status=status.HTTP_201_CREATED)


class PurchaseOrderDetailView(_InventoryView):
    """``/api/v1/purchase-orders/{id}/``: GET; PATCH changes a draft (fields given; ``lines`` replaces all)."""

    serializer_class = PurchaseOrderInSerializer

    @extend_schema(responses=PurchaseOrderSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(PurchaseOrderSerializer(get_object_or_404(_orders(), pk=pk)).data)

    @extend_schema(responses=PurchaseOrderSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(PurchaseOrder, pk=pk)
        data = PurchaseOrderInSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        purchasing.purchase_order_update(
            order=order,
            acting_user=acting_user(request),
            supplier=v.get("supplier", UNSET),
            location=v.get("location", UNSET),
            note=v.get("note", UNSET),
            expected_on=v.get("expected_on", UNSET),
            lines=_specs(v["lines"]) if "lines" in v else UNSET,
        )
        return Response(PurchaseOrderSerializer(_orders().get(pk=pk)).data)


class PurchaseOrderPlaceView(_InventoryView):
    """``POST /api/v1/purchase-orders/{id}/order/``: send a draft to the supplier (``409`` if not a draft)."""

    serializer_class = None

    @extend_schema(request=None, responses=PurchaseOrderSerializer)
    def post(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(PurchaseOrder, pk=pk)
        purchasing.purchase_order_place(order=order, acting_user=acting_user(request))
        return Response(PurchaseOrderSerializer(_orders().get(pk=pk)).data)


class ReceiveLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The order line's id")
    quantity = quantity_field()


class ReceiveSerializer(serializers.Serializer):
    lines = ReceiveLineSerializer(many=True)
    idempotency_key = serializers.CharField(max_length=90)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PurchaseOrderReceiveView(_InventoryView):
    """``POST /api/v1/purchase-orders/{id}/receive/`` ``{lines: [{line, quantity}], idempotency_key, note}``:
    a delivery, possibly partial. ``201`` with the order and the receipt's movements (``200`` on a replay);
    ``409`` when more than outstanding or the order is not placed."""

    serializer_class = ReceiveSerializer

    @extend_schema(responses=PurchaseOrderSerializer)
    def post(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(PurchaseOrder, pk=pk)
        data = ReceiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        result = purchasing.purchase_order_receive(
            order=order,
            lines=[(line["line"], line["quantity"]) for line in v["lines"]],
            idempotency_key=v["idempotency_key"],
            note=v["note"],
            acting_user=acting_user(request),
        )
        body = {
            **PurchaseOrderSerializer(_orders().get(pk=pk)).data,
            "movements": StockMovementSerializer(_loaded(result.movements), many=True).data,
        }
        return Response(body, status=status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED)


class PurchaseOrderCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PurchaseOrderCancelView(_InventoryView):
    """``POST /api/v1/purchase-orders/{id}/cancel/`` ``{reason}``: close an order (received goods stay)."""

    serializer_class = PurchaseOrderCancelSerializer

    @extend_schema(responses=PurchaseOrderSerializer)
    def post(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(PurchaseOrder, pk=pk)
        data = PurchaseOrderCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        purchasing.purchase_order_cancel(order=order, acting_user=acting_user(request), **data.validated_data)
        return Response(PurchaseOrderSerializer(_orders().get(pk=pk)).data)


# --- transfers -------------------------------------------------------------------------------------


class TransferSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    lines = serializers.SerializerMethodField()

    class Meta:
        model = StockTransfer
        fields = ["id", "number", "from_location", "to_location", "note", "lines", "created_by", "created_at"]
        read_only_fields = fields

    def get_lines(self, transfer: StockTransfer) -> list[dict[str, Any]]:
        return [
            {"product": line.product_id, "product_name": str(line.product), "quantity": f"{line.quantity:.3f}"}
            for line in transfer.lines.all()
        ]


class TransferLineInSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = quantity_field()


class TransferInSerializer(serializers.Serializer):
    from_location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    to_location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    lines = TransferLineInSerializer(many=True)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=90)


class StockTransferListView(_InventoryView):
    """``/api/v1/stock-transfers/``: GET the transfers (``?location=`` either end); POST moves stock
    ``{from_location, to_location, lines: [{product, quantity}], note, idempotency_key}`` — all lines or
    none; ``201`` (``200`` on a replay), ``409`` when the source has not enough and negatives are forbidden."""

    serializer_class = TransferInSerializer

    @extend_schema(responses=TransferSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = selectors.transfers().order_by("-id")
        if (location := int_param(request.query_params, "location")) is not None:
            rows = rows.filter(Q(from_location_id=location) | Q(to_location_id=location))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(TransferSerializer(page, many=True).data)

    @extend_schema(responses=TransferSerializer)
    def post(self, request: Request) -> Response:
        data = TransferInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        transfer = transfers.stock_transfer_create(
            from_location=v["from_location"],
            to_location=v["to_location"],
            lines=[(line["product"], line["quantity"]) for line in v["lines"]],
            note=v["note"],
            idempotency_key=v["idempotency_key"],
            acting_user=acting_user(request),
        )
        replayed = getattr(transfer, "replayed", False)
        body = TransferSerializer(selectors.transfers().get(pk=transfer.pk)).data
        return Response(body, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)


class StockTransferDetailView(_InventoryView):
    serializer_class = TransferSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(TransferSerializer(get_object_or_404(selectors.transfers(), pk=pk)).data)


# --- stocktakes ------------------------------------------------------------------------------------


class StocktakeLineSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.__str__", read_only=True)
    expected = quantity_field(read_only=True)
    counted = quantity_field(read_only=True, allow_null=True)
    variance = quantity_field(read_only=True, allow_null=True)

    class Meta:
        model = StocktakeLine
        fields = ["product", "product_name", "expected", "counted", "variance", "counted_at"]
        read_only_fields = fields


class StocktakeSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    location_name = serializers.CharField(source="location.name", read_only=True)

    class Meta:
        model = Stocktake
        fields = [
            "id",
            "number",
            "location",
            "location_name",
            "status",
            "note",
            "opened_at",
            "posted_at",
            "cancelled_at",
        ]
        read_only_fields = fields


class StocktakeDetailSerializer(StocktakeSerializer):
    lines = serializers.SerializerMethodField()
    variance = serializers.SerializerMethodField()

    class Meta(StocktakeSerializer.Meta):
        fields = [*StocktakeSerializer.Meta.fields, "lines", "variance"]
        read_only_fields = fields

    def get_lines(self, stocktake: Stocktake) -> list[dict[str, Any]]:
        return StocktakeLineSerializer(selectors.stocktake_lines(stocktake), many=True).data  # type: ignore[return-value]

    def get_variance(self, stocktake: Stocktake) -> dict[str, Any]:
        """Counted against the books: lines, counted, and the value of shortages and surpluses in fen."""
        report = selectors.stocktake_variance(stocktake)
        return {
            "lines": report.lines,
            "counted": report.counted,
            "differences": len(report.rows),
            "shortage_value": report.shortage_value,
            "surplus_value": report.surplus_value,
            "net_value": report.net_value,
        }


class StocktakeInSerializer(serializers.Serializer):
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class StocktakeListView(_InventoryView):
    """``/api/v1/stocktakes/`` (``?location=``, ``?status=``); POST ``{location, note}`` opens a count
    sheet listing every active product with the quantity on the books (``409`` if one is open there)."""

    serializer_class = StocktakeInSerializer

    @extend_schema(responses=StocktakeSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = selectors.stocktakes(location=int_param(request.query_params, "location"))
        if value := choice_param(request.query_params, "status", StocktakeStatus.values):
            rows = rows.filter(status=value)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(StocktakeSerializer(page, many=True).data)

    @extend_schema(responses=StocktakeDetailSerializer)
    def post(self, request: Request) -> Response:
        data = StocktakeInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stocktake = stocktakes.stocktake_open(acting_user=acting_user(request), **data.validated_data)
        return Response(StocktakeDetailSerializer(stocktake).data, status=status.HTTP_201_CREATED)


class StocktakeDetailView(_InventoryView):
    """``/api/v1/stocktakes/{id}/``: the sheet with its lines (expected, counted, variance) and totals."""

    serializer_class = StocktakeDetailSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(StocktakeDetailSerializer(get_object_or_404(selectors.stocktakes(), pk=pk)).data)


class CountSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    counted = quantity_field(allow_null=True, help_text="null clears the count")


class CountsSerializer(serializers.Serializer):
    counts = CountSerializer(many=True)


class StocktakeCountsView(_InventoryView):
    """``POST /api/v1/stocktakes/{id}/counts/`` ``{counts: [{product, counted}]}``: record counts (any
    number at once, again to correct); answers with the updated lines."""

    serializer_class = CountsSerializer

    @extend_schema(responses=StocktakeLineSerializer(many=True))
    def post(self, request: Request, pk: int) -> Response:
        stocktake = get_object_or_404(Stocktake, pk=pk)
        data = CountsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = stocktakes.stocktake_count(
            stocktake=stocktake,
            counts=[(row["product"], row["counted"]) for row in data.validated_data["counts"]],
            acting_user=acting_user(request),
        )
        rows = StocktakeLine.objects.select_related("product").filter(pk__in=[line.pk for line in lines]).order_by("pk")
        return Response(StocktakeLineSerializer(rows, many=True).data)


class StocktakePostView(_InventoryView):
    """``POST /api/v1/stocktakes/{id}/post/``: each counted difference becomes a stocktake movement;
    answers with the sheet and the movements written."""

    serializer_class = None

    @extend_schema(request=None, responses=StocktakeDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        stocktake = get_object_or_404(Stocktake, pk=pk)
        result = stocktakes.stocktake_post(stocktake=stocktake, acting_user=acting_user(request))
        body = {
            **StocktakeDetailSerializer(selectors.stocktakes().get(pk=pk)).data,
            "movements": StockMovementSerializer(_loaded(result.movements), many=True).data,
        }
        return Response(body)


class StocktakeCancelView(_InventoryView):
    """``POST /api/v1/stocktakes/{id}/cancel/``: throw an open sheet away."""

    serializer_class = None

    @extend_schema(request=None, responses=StocktakeSerializer)
    def post(self, request: Request, pk: int) -> Response:
        stocktake = stocktakes.stocktake_cancel(
            stocktake=get_object_or_404(Stocktake, pk=pk), acting_user=acting_user(request)
        )
        return Response(StocktakeSerializer(stocktake).data)
