"""REST API of commission (POS-6): the rules, and the staff performance report (everybody's, and one's
own). Thin: check the input's shape, call one service or selector, return its result."""

from __future__ import annotations

import datetime
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog.models import Product, ProductCategory, Service, ServiceCategory
from apps.core.db import salon_today
from apps.core.models import Location, StaffLevel
from apps.core.permissions import HasRolePermission, acting_user
from apps.pos.models import CommissionMethod, CommissionRule, CommissionScope, LineKind
from apps.pos.selectors.commission import commission_rules, staff_performance
from apps.pos.services import commission as services


class CommissionTierSerializer(serializers.Serializer):
    from_volume = serializers.IntegerField(help_text="From this volume in the month (fen)")
    rate_bp = serializers.IntegerField(help_text="Rate in basis points (1 % = 100)")


def _related(model: Any) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=model.objects.all(), required=False, allow_null=True, default=None
    )


class CommissionRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    scope = serializers.ChoiceField(choices=CommissionScope.choices)
    service = _related(Service)
    product = _related(Product)
    service_category = _related(ServiceCategory)
    product_category = _related(ProductCategory)
    line_kind = serializers.ChoiceField(choices=LineKind.choices, required=False, allow_blank=True, default="")
    staff_level = _related(StaffLevel)
    method = serializers.ChoiceField(choices=CommissionMethod.choices)
    rate_bp = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="Percentage rules")
    fixed_amount = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Fixed rules: fen per unit"
    )
    tiers = CommissionTierSerializer(many=True, required=False, default=list, help_text="Tiered rules")
    requested_bonus_bp = serializers.IntegerField(required=False, default=0)
    requested_bonus_amount = serializers.IntegerField(required=False, default=0)
    valid_from = serializers.DateField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    is_active = serializers.BooleanField(required=False, default=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["tiers"] = [{"from_volume": t.from_volume, "rate_bp": t.rate_bp} for t in instance.tiers.all()]
        return data


def _values(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if "tiers" in values:
        values["tiers"] = [(tier["from_volume"], tier["rate_bp"]) for tier in values["tiers"]]
    if values.get("line_kind") is None and "line_kind" in values:
        values["line_kind"] = ""
    return values


class RuleQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=CommissionScope.choices, required=False, allow_blank=True)
    is_active = serializers.ChoiceField(choices=["true", "false"], required=False, allow_blank=True)


class CommissionRuleListView(GenericAPIView):
    """``/api/v1/commission-rules/[?scope=&is_active=]``: the rules, most specific first; ``manage_staff``
    reads and writes them."""

    permission_classes = [HasRolePermission]
    read_permission = "manage_staff"
    required_permission = "manage_staff"
    serializer_class = CommissionRuleSerializer
    queryset = CommissionRule.objects.all()

    @extend_schema(
        operation_id="commission_rules_list",
        parameters=[
            OpenApiParameter("scope", str, enum=CommissionScope.values),
            OpenApiParameter("is_active", bool),
        ],
        responses=CommissionRuleSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = RuleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        active = query.validated_data.get("is_active")
        rules = commission_rules(
            scope=query.validated_data.get("scope") or None, is_active=None if not active else active == "true"
        )
        page = self.paginate_queryset(rules)
        return self.get_paginated_response(CommissionRuleSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = CommissionRuleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.commission_rule_create(acting_user=acting_user(request), **_values(data.validated_data))
        return Response(CommissionRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class CommissionRuleDetailView(GenericAPIView):
    """``/api/v1/commission-rules/{id}/``: read, change (PATCH), deactivate (DELETE: entries that used the
    rule keep naming it)."""

    permission_classes = [HasRolePermission]
    read_permission = "manage_staff"
    required_permission = "manage_staff"
    serializer_class = CommissionRuleSerializer
    queryset = CommissionRule.objects.all()

    def get(self, request: Request, pk: int) -> Response:
        return Response(CommissionRuleSerializer(get_object_or_404(commission_rules(), pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(CommissionRule, pk=pk)
        data = CommissionRuleSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rule = services.commission_rule_update(
            rule=rule, acting_user=acting_user(request), **_values(data.validated_data)
        )
        return Response(CommissionRuleSerializer(rule).data)

    def put(self, request: Request, pk: int) -> Response:
        return self.patch(request, pk)

    def delete(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(CommissionRule, pk=pk)
        services.commission_rule_deactivate(rule=rule, acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PeriodQuerySerializer(serializers.Serializer):
    """``from``, ``to`` (local dates) and ``location``; ``from`` is a Python keyword, hence the fields are
    named here."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": serializers.DateField(required=False),
            "to": serializers.DateField(required=False),
            "location": serializers.PrimaryKeyRelatedField(
                queryset=Location.objects.all(), required=False, allow_null=True
            ),
        }


def _period(request: Request) -> tuple[datetime.date, datetime.date, Location | None]:
    query = PeriodQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    # Without dates: the month up to today.
    date_to = query.validated_data.get("to") or salon_today()
    date_from = query.validated_data.get("from") or date_to.replace(day=1)
    return date_from, date_to, query.validated_data.get("location")


PERIOD_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First local date (default: the 1st of the month of `to`)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last local date (default: today; at most 366 days)"),
    OpenApiParameter("location", int, description="A location's id; all locations when left out"),
]


class StaffPerformanceView(APIView):
    """``GET /api/v1/reports/staff-performance/?from=&to=[&location=]``: per staff member, revenue (fen),
    services, products, requested services and commission (fen) of the period, and the totals."""

    permission_classes = [HasRolePermission]
    read_permission = "view_reports"

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        date_from, date_to, location = _period(request)
        report = staff_performance(date_from=date_from, date_to=date_to, location=location)
        return Response(report.as_dict())


class MyPerformanceView(APIView):
    """``GET /api/v1/reports/my-performance/?from=&to=[&location=]``: the same figures, of the signed-in
    staff member only."""

    permission_classes = [HasRolePermission]
    read_permission = "view_own_schedule"

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        date_from, date_to, location = _period(request)
        report = staff_performance(date_from=date_from, date_to=date_to, location=location, staff=acting_user(request))
        return Response(report.as_dict())
