"""The salon's merchant accounts through the API: identifiers in clear, secrets write-only (the answer
says only whether each is set). Reading and writing need ``manage_settings``."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.permissions import HasRolePermission, acting_user
from apps.payments import selectors
from apps.payments.models import CREDENTIAL_FIELDS, Provider
from apps.payments.services import merchant_account_update


class PaymentAccountSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(choices=Provider.choices, read_only=True)
    is_enabled = serializers.BooleanField(required=False)
    is_complete = serializers.BooleanField(read_only=True, help_text="Every required credential is stored")
    app_id = serializers.CharField(required=False, allow_blank=True, max_length=32)
    mch_id = serializers.CharField(required=False, allow_blank=True, max_length=16, help_text="WeChat Pay only")
    sub_mch_id = serializers.CharField(required=False, allow_blank=True, max_length=16, help_text="WeChat Pay only")
    api_key = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text="WeChat Pay; empty keeps the stored one"
    )
    cert_pem = serializers.CharField(write_only=True, required=False, allow_blank=True, trim_whitespace=False)
    cert_key_pem = serializers.CharField(write_only=True, required=False, allow_blank=True, trim_whitespace=False)
    app_private_key = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=False, help_text="Alipay"
    )
    alipay_public_key = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=False, help_text="Alipay"
    )
    clear = serializers.ListField(
        child=serializers.ChoiceField(choices=["sub_mch_id", "cert_pem", "cert_key_pem"]),
        write_only=True,
        required=False,
        help_text="Optional credentials to remove",
    )
    secrets_set = serializers.DictField(child=serializers.BooleanField(), read_only=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)


def _data(view: selectors.AccountView) -> dict[str, Any]:
    return {
        "provider": view.provider,
        "is_enabled": view.is_enabled,
        "is_complete": view.is_complete,
        **view.identifiers,
        "secrets_set": view.secrets_set,
        "updated_at": view.updated_at,
    }


class PaymentAccountListView(GenericAPIView):
    """``GET /api/v1/payment-accounts/``: both providers, set up or not."""

    permission_classes = [HasRolePermission]
    read_permission = "manage_settings"
    required_permission = "manage_settings"
    serializer_class = PaymentAccountSerializer
    pagination_class = None

    @extend_schema(responses=PaymentAccountSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response([_data(view) for view in selectors.account_views()])


class PaymentAccountDetailView(GenericAPIView):
    """``/api/v1/payment-accounts/{wechat|alipay}/``: GET one; PUT/PATCH sets credentials (a secret left
    out or empty keeps the stored one) and ``is_enabled``."""

    permission_classes = [HasRolePermission]
    read_permission = "manage_settings"
    required_permission = "manage_settings"
    serializer_class = PaymentAccountSerializer

    def get(self, request: Request, provider: str) -> Response:
        if provider not in Provider.values:
            raise Http404
        return Response(_data(selectors.account_view(provider)))

    @extend_schema(request=PaymentAccountSerializer, responses=PaymentAccountSerializer)
    def put(self, request: Request, provider: str) -> Response:
        if provider not in Provider.values:
            raise Http404
        data = PaymentAccountSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        merchant_account_update(
            provider=provider,
            acting_user=acting_user(request),
            credentials={k: v for k, v in values.items() if k in CREDENTIAL_FIELDS[provider]},
            clear=values.get("clear", []),
            is_enabled=values.get("is_enabled"),
        )
        return Response(_data(selectors.account_view(provider)))

    @extend_schema(request=PaymentAccountSerializer, responses=PaymentAccountSerializer)
    def patch(self, request: Request, provider: str) -> Response:
        return self.put(request, provider)


urlpatterns = [
    path("payment-accounts/", PaymentAccountListView.as_view(), name="api-payment-accounts"),
    # One route per provider (not a slug): every API route is then a real address the isolation tests call.
    *(
        path(f"payment-accounts/{provider}/", PaymentAccountDetailView.as_view(), {"provider": provider})
        for provider in Provider.values
    ),
]
