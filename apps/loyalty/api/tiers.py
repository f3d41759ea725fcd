"""Membership tiers through the API (LOY-1): a tier's benefits and thresholds, a client's tier with the
progress to the next one and the history of changes, a change by hand, and an evaluation on demand."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.permissions import HasRolePermission, acting_user
from apps.crm.models import MembershipTier
from apps.loyalty.models import TierBenefit, TierChange
from apps.loyalty.selectors import member_client
from apps.loyalty.selectors_tiers import tier_history, tier_progress
from apps.loyalty.services import tiers as tier_services


class TierBenefitSerializer(serializers.Serializer):
    tier = serializers.IntegerField(source="tier_id", read_only=True)
    tier_name = serializers.CharField(source="tier.name", read_only=True)
    price_percent = serializers.IntegerField(help_text="Price paid in percent: 90 is 九折, 100 no discount")
    points_multiplier = serializers.DecimalField(max_digits=4, decimal_places=2)
    perks = serializers.CharField(required=False, allow_blank=True, default="")
    min_spend = serializers.IntegerField(required=False, default=0, help_text="Spend in 12 months to qualify (fen)")
    min_points = serializers.IntegerField(required=False, default=0, help_text="Points in 12 months to qualify")
    is_automatic = serializers.BooleanField(required=False, default=True)


class TierBenefitView(GenericAPIView):
    """``/api/v1/tiers/{id}/benefits/``: read by anyone signed in (the till shows the discount);
    ``manage_loyalty`` sets them. A tier whose benefits were never set shows the defaults."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_loyalty"
    serializer_class = TierBenefitSerializer

    def get(self, request: Request, pk: int) -> Response:
        tier = get_object_or_404(MembershipTier, pk=pk)
        benefit = tier_services.benefit_of(tier) or TierBenefit(tier=tier)
        return Response(TierBenefitSerializer(benefit).data)

    def put(self, request: Request, pk: int) -> Response:
        tier = get_object_or_404(MembershipTier, pk=pk)
        data = TierBenefitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        benefit = tier_services.tier_benefit_set(tier=tier, acting_user=acting_user(request), **data.validated_data)
        return Response(TierBenefitSerializer(benefit).data)


class TierSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    rank = serializers.IntegerField()
    color = serializers.CharField()


class TierChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = TierChange
        fields = [
            "id",
            "from_tier",
            "to_tier",
            "from_name",
            "to_name",
            "reason",
            "basis_value",
            "note",
            "actor",
            "created_at",
        ]


def _tier(tier: MembershipTier | None) -> dict[str, Any] | None:
    return TierSummarySerializer(tier).data if tier is not None else None


class ClientTierChangeSerializer(serializers.Serializer):
    tier = serializers.PrimaryKeyRelatedField(queryset=MembershipTier.objects.all(), allow_null=True)
    reason = serializers.CharField(max_length=200)


class ClientTierView(GenericAPIView):
    """``/api/v1/clients/{id}/tier/``: GET the current tier, the progress to the next and the history
    (``take_payments``); POST ``{tier, reason}`` changes it by hand (``manage_loyalty``; ``tier`` null
    takes the client out of every tier)."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    required_permission = "manage_loyalty"
    serializer_class = ClientTierChangeSerializer

    @extend_schema(
        responses=inline_serializer(
            "ClientTier",
            {
                "tier": TierSummarySerializer(allow_null=True),
                "progress": inline_serializer(
                    "TierProgress",
                    {
                        "basis": serializers.CharField(),
                        "figure": serializers.IntegerField(),
                        "next_tier": TierSummarySerializer(allow_null=True),
                        "next_threshold": serializers.IntegerField(allow_null=True),
                        "remaining": serializers.IntegerField(),
                        "percent": serializers.IntegerField(),
                    },
                ),
                "history": TierChangeSerializer(many=True),
            },
        )
    )
    def get(self, request: Request, pk: int) -> Response:
        client = member_client(pk)
        progress = tier_progress(client)
        return Response(
            {
                "tier": _tier(client.tier),
                "progress": {
                    "basis": progress.basis,
                    "figure": progress.figure,
                    "next_tier": _tier(progress.next_tier),
                    "next_threshold": progress.next_threshold,
                    "remaining": progress.remaining,
                    "percent": progress.percent,
                },
                "history": TierChangeSerializer(tier_history(client), many=True).data,
            }
        )

    @extend_schema(responses={201: TierChangeSerializer})
    def post(self, request: Request, pk: int) -> Response:
        client = member_client(pk)
        data = ClientTierChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = tier_services.client_tier_set(client=client, acting_user=acting_user(request), **data.validated_data)
        return Response(TierChangeSerializer(change).data, status=status.HTTP_201_CREATED)


class ClientTierEvaluateView(GenericAPIView):
    """``POST /api/v1/clients/{id}/tier/evaluate/``: apply the salon's tier rules to the client now;
    ``change`` is null when the tier stays."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "TierEvaluation",
            {"tier": TierSummarySerializer(allow_null=True), "change": TierChangeSerializer(allow_null=True)},
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        client = member_client(pk)
        change = tier_services.tier_evaluate(client=client)
        client.refresh_from_db(fields=["tier"])
        return Response(
            {"tier": _tier(client.tier), "change": TierChangeSerializer(change).data if change is not None else None}
        )


urlpatterns = [
    path("tiers/<int:pk>/benefits/", TierBenefitView.as_view(), name="api-tier-benefits"),
    path("clients/<int:pk>/tier/", ClientTierView.as_view(), name="api-client-tier"),
    path("clients/<int:pk>/tier/evaluate/", ClientTierEvaluateView.as_view(), name="api-client-tier-evaluate"),
]
