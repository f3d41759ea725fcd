"""Pages of the payment gateways: the owner's settings page for the salon's merchant accounts, and the
notify addresses the providers post to (no sign-in, no CSRF token: the signature is the check)."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.errors import ServiceError
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.views import apply_service_error
from apps.payments import selectors
from apps.payments.forms import AlipayAccountForm, WeChatAccountForm
from apps.payments.gateways import module_for
from apps.payments.models import Provider
from apps.payments.services import (
    gateway_notification_handle,
    gateway_refund_notification_handle,
    merchant_account_update,
)

settings_page = staff_permission_required("manage_settings")
FORMS: dict[str, type[forms.Form]] = {Provider.WECHAT: WeChatAccountForm, Provider.ALIPAY: AlipayAccountForm}
RECENT = 20
# A provider's notification is a few hundred bytes; anything far larger is not one.
MAX_NOTIFICATION_BYTES = 64 * 1024


@settings_page
def account_list(request: HttpRequest) -> HttpResponse:
    """Both merchant accounts (whether set up, switched on, which secrets are stored) and recent payments."""
    payments = selectors.gateway_payments()[:RECENT]
    return render(request, "payments/accounts.html", {"accounts": selectors.account_views(), "payments": payments})


@settings_page
def account_edit(request: HttpRequest, provider: str) -> HttpResponse:
    if provider not in FORMS:
        raise Http404
    view = selectors.account_view(provider)
    form = FORMS[provider](request.POST or None, initial={**view.identifiers, "is_enabled": view.is_enabled})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        clear = ["cert_pem", "cert_key_pem"] if data.pop("clear_certificate", False) else []
        try:
            merchant_account_update(
                provider=provider,
                acting_user=acting_user(request),
                credentials={k: v for k, v in data.items() if k != "is_enabled"},
                clear=clear,
                is_enabled=data["is_enabled"],
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The %(provider)s account was saved.") % {"provider": view.label})
            return redirect("payments:accounts")
    return render(request, "payments/account_form.html", {"form": form, "account": view})


def _notification_answer(request: HttpRequest, provider: str, handle: Callable[..., object]) -> HttpResponse:
    """Run ``handle`` on a provider's notification and answer in the provider's own format: SUCCESS /
    success once it is recorded (also for a repeat), FAIL / fail otherwise (the provider sends it again)."""
    gateway = module_for(provider)
    if len(request.body) > MAX_NOTIFICATION_BYTES:
        body, content_type = gateway.notification_reply(ok=False, message="too large")
        return HttpResponse(body, content_type=content_type, status=413)
    try:
        handle(provider=provider, body=request.body, headers=dict(request.headers))
    except ServiceError as error:
        body, content_type = gateway.notification_reply(ok=False, message=error.code.value)
        return HttpResponse(body, content_type=content_type, status=error.status)
    body, content_type = gateway.notification_reply(ok=True)
    return HttpResponse(body, content_type=content_type)


@csrf_exempt
@require_POST
def notify(request: HttpRequest, provider: str) -> HttpResponse:
    """A provider's payment notification."""
    return _notification_answer(request, provider, gateway_notification_handle)


@csrf_exempt
@require_POST
def refund_notify(request: HttpRequest, provider: str) -> HttpResponse:
    """A provider's refund notification (WeChat Pay: sent to the notify_url of the refund)."""
    return _notification_answer(request, provider, gateway_refund_notification_handle)
