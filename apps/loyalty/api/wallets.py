"""Stored value through the API (SPEC §4): the client's wallet, its ledger, the refund quote and the
refund of a card, adjustments, the top-up rules and the loyalty settings. The top-up itself is a sale
and comes through the till (``POST /api/v1/clients/{id}/top-ups/``)."""

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
from apps.crm.models import Client
from apps.loyalty import selectors
from apps.loyalty.models import LoyaltySettings, TopUpRule, Wallet, WalletEntry
from apps.loyalty.services import settings as settings_services
from apps.loyalty.services import top_up_rules as rule_services
from apps.loyalty.services import wallet_refunds as refund_services
from apps.loyalty.services import wallets as wallet_services
from apps.loyalty.services._common import loyalty_settings


class CourseCardBalanceSerializer(serializers.Serializer):
    service = serializers.IntegerField(source="service_id")
    service_name = serializers.CharField(source="service.name")
    sessions_total = serializers.IntegerField()
    sessions_left = serializers.IntegerField()


class CourseCardSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    expires_on = serializers.DateField(allow_null=True, help_text="Empty: never expires (a package card)")
    status = serializers.CharField()
    balances = CourseCardBalanceSerializer(many=True)


class WalletView(GenericAPIView):
    """``GET /api/v1/clients/{id}/wallet/``: stored value (principal and bonus apart), points, tier,
    the current member card and the course cards still in use."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"

    @extend_schema(
        responses=inline_serializer(
            "Wallet",
            {
                "principal": serializers.IntegerField(),
                "bonus": serializers.IntegerField(),
                "balance": serializers.IntegerField(),
                "points": serializers.IntegerField(),
                "tier": inline_serializer(
                    "WalletTier", {"id": serializers.IntegerField(), "name": serializers.CharField()}, allow_null=True
                ),
                "card": inline_serializer(
                    "WalletCard",
                    {
                        "id": serializers.IntegerField(),
                        "number": serializers.CharField(),
                        "status": serializers.CharField(),
                        "expires_on": serializers.DateField(allow_null=True),
                    },
                    allow_null=True,
                ),
                "course_cards": CourseCardSummarySerializer(many=True),
            },
        )
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(wallet_body(selectors.member_client(pk)))


def wallet_body(client: Client) -> dict[str, Any]:
    """The wallet as ``GET /api/v1/clients/{id}/wallet/`` answers it (the till's top-up answers the same)."""
    account = selectors.account_header(client)
    card = account.card
    return {
        "principal": account.principal,
        "bonus": account.bonus,
        "balance": account.balance,
        "points": account.points,
        "tier": {"id": client.tier.pk, "name": client.tier.name} if client.tier else None,
        "card": {"id": card.pk, "number": card.number, "status": card.status, "expires_on": card.expires_on}
        if card
        else None,
        "course_cards": CourseCardSummarySerializer(selectors.active_course_cards(client), many=True).data,
    }


class RefundQuoteView(GenericAPIView):
    """``GET /api/v1/clients/{id}/wallet/refund-quote/``: what refunding the card pays out, with its working."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"

    @extend_schema(
        responses=inline_serializer(
            "RefundQuote",
            {
                "refundable_principal": serializers.IntegerField(),
                "forfeited_bonus": serializers.IntegerField(),
                "forfeited_principal": serializers.IntegerField(),
                "principal_in": serializers.IntegerField(),
                "bonus_in": serializers.IntegerField(),
                "used": serializers.IntegerField(),
                "working": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request: Request, pk: int) -> Response:
        client = selectors.member_client(pk)
        wallet = Wallet.objects.filter(client=client).first() or Wallet(client=client)
        return Response(_quote(refund_services.wallet_refund_quote(wallet)))


def _quote(quote: refund_services.RefundQuote) -> dict[str, Any]:
    return {
        "refundable_principal": quote.refundable_principal,
        "forfeited_bonus": quote.forfeited_bonus,
        "forfeited_principal": quote.forfeited_principal,
        "principal_in": quote.principal_in,
        "bonus_in": quote.bonus_in,
        "used": quote.used,
        "working": quote.working,
    }


class RefundSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(max_length=90)
    reason = serializers.CharField(max_length=200)


class WalletRefundView(GenericAPIView):
    """``POST /api/v1/clients/{id}/wallet/refund/``: refund and close the card by the quote (``issue_refunds``)."""

    permission_classes = [HasRolePermission]
    required_permission = "issue_refunds"
    serializer_class = RefundSerializer

    def post(self, request: Request, pk: int) -> Response:
        client = selectors.member_client(pk)
        data = RefundSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = refund_services.wallet_refund(client=client, acting_user=acting_user(request), **data.validated_data)
        return Response(
            {
                **_quote(result.quote),
                "refund_entry": result.refund.pk if result.refund else None,
                "forfeit_entry": result.forfeit.pk if result.forfeit else None,
            },
            status=status.HTTP_201_CREATED,
        )


class WalletEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = WalletEntry
        fields = [
            "id",
            "kind",
            "amount",
            "principal_delta",
            "bonus_delta",
            "principal_after",
            "bonus_after",
            "reference",
            "top_up_rule",
            "reverses",
            "actor",
            "note",
            "created_at",
        ]


class WalletEntriesView(GenericAPIView):
    """``GET /api/v1/clients/{id}/wallet/entries/``: the stored-value ledger, newest first."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    serializer_class = WalletEntrySerializer

    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(selectors.wallet_entries(selectors.member_client(pk)))
        return self.get_paginated_response(WalletEntrySerializer(page, many=True).data)


class AdjustmentSerializer(serializers.Serializer):
    principal_delta = serializers.IntegerField(default=0)
    bonus_delta = serializers.IntegerField(default=0)
    reason = serializers.CharField(max_length=200)
    idempotency_key = serializers.CharField(max_length=90)


class WalletAdjustView(GenericAPIView):
    """``POST /api/v1/clients/{id}/wallet/adjustments/``: a correction by hand (``adjust_balances``), audited."""

    permission_classes = [HasRolePermission]
    required_permission = "adjust_balances"
    serializer_class = AdjustmentSerializer

    def post(self, request: Request, pk: int) -> Response:
        client = selectors.member_client(pk)
        data = AdjustmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = wallet_services.wallet_adjust(client=client, acting_user=acting_user(request), **data.validated_data)
        return Response(WalletEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class TopUpRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    pay_amount = serializers.IntegerField(help_text="Pay at least this much (fen)")
    bonus_amount = serializers.IntegerField(help_text="Bonus credited (fen)")
    valid_from = serializers.DateField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    is_active = serializers.BooleanField(required=False, default=True)


class TopUpRuleListView(GenericAPIView):
    """``/api/v1/top-up-rules/``: anyone signed in reads them (the till shows the bonus); ``manage_loyalty`` writes."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_loyalty"
    serializer_class = TopUpRuleSerializer
    queryset = TopUpRule.objects.all()

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.top_up_rules())
        return self.get_paginated_response(TopUpRuleSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = TopUpRuleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        is_active = values.pop("is_active", True)
        rule = rule_services.top_up_rule_create(acting_user=acting_user(request), **values)
        if not is_active:
            rule = rule_services.top_up_rule_update(rule=rule, is_active=False, acting_user=acting_user(request))
        return Response(TopUpRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class TopUpRuleDetailView(GenericAPIView):
    """DELETE deactivates: top-ups already made keep naming the rule they used."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_loyalty"
    serializer_class = TopUpRuleSerializer
    queryset = TopUpRule.objects.all()

    def get(self, request: Request, pk: int) -> Response:
        return Response(TopUpRuleSerializer(get_object_or_404(TopUpRule, pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(TopUpRule, pk=pk)
        data = TopUpRuleSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rule = rule_services.top_up_rule_update(rule=rule, acting_user=acting_user(request), **data.validated_data)
        return Response(TopUpRuleSerializer(rule).data)

    def put(self, request: Request, pk: int) -> Response:
        return self.patch(request, pk)

    def delete(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(TopUpRule, pk=pk)
        rule_services.top_up_rule_update(rule=rule, is_active=False, acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class LoyaltySettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = LoyaltySettings
        exclude = ["id", "updated_at"]


class LoyaltySettingsView(GenericAPIView):
    """``/api/v1/loyalty-settings/``: read by anyone signed in, changed with ``manage_loyalty``."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_loyalty"
    serializer_class = LoyaltySettingsSerializer

    def get(self, request: Request) -> Response:
        return Response(LoyaltySettingsSerializer(loyalty_settings()).data)

    def patch(self, request: Request) -> Response:
        data = LoyaltySettingsSerializer(loyalty_settings(), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        row = settings_services.loyalty_settings_update(acting_user=acting_user(request), **data.validated_data)
        return Response(LoyaltySettingsSerializer(row).data)


urlpatterns = [
    path("clients/<int:pk>/wallet/", WalletView.as_view(), name="api-client-wallet"),
    path("clients/<int:pk>/wallet/refund-quote/", RefundQuoteView.as_view(), name="api-client-wallet-refund-quote"),
    path("clients/<int:pk>/wallet/refund/", WalletRefundView.as_view(), name="api-client-wallet-refund"),
    path("clients/<int:pk>/wallet/entries/", WalletEntriesView.as_view(), name="api-client-wallet-entries"),
    path("clients/<int:pk>/wallet/adjustments/", WalletAdjustView.as_view(), name="api-client-wallet-adjust"),
    path("top-up-rules/", TopUpRuleListView.as_view(), name="api-top-up-rule-list"),
    path("top-up-rules/<int:pk>/", TopUpRuleDetailView.as_view(), name="api-top-up-rule-detail"),
    path("loyalty-settings/", LoyaltySettingsView.as_view(), name="api-loyalty-settings"),
]
