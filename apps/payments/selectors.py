"""Reads of the payment gateways: the accounts as pages and the API show them (secrets only as "set"),
the payments with filters, and the notify address of this salon."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from apps.core.db import salon_absolute_url
from apps.payments.models import (
    CREDENTIAL_FIELDS,
    SECRET_FIELDS,
    GatewayPayment,
    MerchantAccount,
    Provider,
)


@dataclass(frozen=True)
class AccountView:
    """A merchant account as it may be shown: identifiers in clear, each secret only as set or not."""

    provider: str
    label: str
    is_enabled: bool
    is_complete: bool
    identifiers: dict[str, str]
    secrets_set: dict[str, bool]
    updated_at: object


def account_views() -> list[AccountView]:
    """Both providers, configured or not, in a fixed order (one query)."""
    stored = {a.provider: a for a in MerchantAccount.objects.all()}
    views = []
    for provider, label in Provider.choices:
        account = stored.get(provider) or MerchantAccount(provider=provider)
        values = account.values
        views.append(
            AccountView(
                provider=provider,
                label=str(label),
                is_enabled=account.is_enabled,
                is_complete=account.is_complete,
                identifiers={k: values[k] for k in CREDENTIAL_FIELDS[provider] if k not in SECRET_FIELDS},
                secrets_set={k: bool(values[k]) for k in CREDENTIAL_FIELDS[provider] if k in SECRET_FIELDS},
                updated_at=account.updated_at if account.pk else None,
            )
        )
    return views


def account_view(provider: str) -> AccountView:
    return next(view for view in account_views() if view.provider == provider)


def gateway_payments() -> QuerySet[GatewayPayment]:
    return GatewayPayment.objects.order_by("-created_at", "-id")


def notify_url(request: HttpRequest, provider: str) -> str:
    """The absolute address this salon's notifications from ``provider`` go to (for gateway_charge_qr)."""
    return request.build_absolute_uri(reverse(f"payments_notify:{provider}"))


def refund_notify_url(provider: str) -> str:
    """The absolute address this salon's refund notifications from ``provider`` go to, built without a
    request (refunds are sent after a commit or by the reconciliation); "" for a provider that sends none
    (Alipay answers a refund at once) or when no salon is being served."""
    if provider != Provider.WECHAT:
        return ""
    return salon_absolute_url(reverse("payments_notify:wechat_refund"))
