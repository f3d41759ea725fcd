"""Gateway payments through the API, read-only (the till takes payments through its own bills):
``GET /api/v1/gateway-payments/`` with filters and ``GET /api/v1/gateway-payments/{id}/`` with refunds.
Reading needs ``take_payments``."""

from __future__ import annotations

import datetime

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.db import salon_timezone
from apps.core.permissions import HasRolePermission
from apps.payments import selectors
from apps.payments.models import GatewayPayment, GatewayRefund, PaymentKind, PaymentStatus, Provider


class GatewayRefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = GatewayRefund
        fields = [
            "id",
            "out_refund_no",
            "amount",
            "reason",
            "status",
            "provider_refund_id",
            "error_code",
            "error_message",
            "created_at",
            "refunded_at",
        ]


class GatewayPaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = GatewayPayment
        fields = [
            "id",
            "provider",
            "kind",
            "amount",
            "out_trade_no",
            "provider_transaction_id",
            "status",
            "description",
            "reference",
            "code_url",
            "error_code",
            "error_message",
            "attempts",
            "refunded_amount",
            "created_at",
            "paid_at",
            "settled_at",
        ]


class GatewayPaymentDetailSerializer(GatewayPaymentSerializer):
    refunds = GatewayRefundSerializer(many=True, read_only=True)

    class Meta(GatewayPaymentSerializer.Meta):
        fields = [*GatewayPaymentSerializer.Meta.fields, "refunds"]


def _midnight(day: datetime.date) -> datetime.datetime:
    """The salon's local midnight starting ``day``."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=salon_timezone())


def _date(value: str, field: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({field: ["Enter a date as YYYY-MM-DD."]}) from None


CHOICES = {"provider": Provider.values, "status": PaymentStatus.values, "kind": PaymentKind.values}


class GatewayPaymentListView(GenericAPIView):
    """Filters: ``provider``, ``status``, ``kind``, ``reference`` (exact), ``out_trade_no``, ``date_from`` /
    ``date_to`` (the salon's calendar days)."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    serializer_class = GatewayPaymentSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("provider", str, enum=Provider.values),
            OpenApiParameter("status", str, enum=PaymentStatus.values),
            OpenApiParameter("kind", str, enum=PaymentKind.values),
            OpenApiParameter("reference", str),
            OpenApiParameter("out_trade_no", str),
            OpenApiParameter("date_from", str, description="YYYY-MM-DD (salon's calendar)"),
            OpenApiParameter("date_to", str, description="YYYY-MM-DD (salon's calendar)"),
        ],
        responses=GatewayPaymentSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        payments = selectors.gateway_payments()
        params = request.query_params
        for name, allowed in CHOICES.items():
            if params.get(name):
                if params[name] not in allowed:
                    raise ValidationError({name: [f"One of: {', '.join(allowed)}."]})
                payments = payments.filter(**{name: params[name]})
        for name in ("reference", "out_trade_no"):
            if params.get(name):
                payments = payments.filter(**{name: params[name]})
        if params.get("date_from"):
            payments = payments.filter(created_at__gte=_midnight(_date(params["date_from"], "date_from")))
        if params.get("date_to"):
            day_after = _date(params["date_to"], "date_to") + datetime.timedelta(days=1)
            payments = payments.filter(created_at__lt=_midnight(day_after))
        page = self.paginate_queryset(payments)
        return self.get_paginated_response(GatewayPaymentSerializer(page, many=True).data)


class GatewayPaymentDetailView(GenericAPIView):
    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    serializer_class = GatewayPaymentDetailSerializer

    def get(self, request: Request, pk: int) -> Response:
        payment = get_object_or_404(GatewayPayment.objects.prefetch_related("refunds"), pk=pk)
        return Response(GatewayPaymentDetailSerializer(payment).data)


urlpatterns = [
    path("gateway-payments/", GatewayPaymentListView.as_view(), name="api-gateway-payments"),
    path("gateway-payments/<int:pk>/", GatewayPaymentDetailView.as_view(), name="api-gateway-payment"),
]
