"""WeChat Pay and Alipay tenders in the orders API (POS-2).

``POST /api/v1/orders/{id}/pay/`` with one ``wechat`` / ``alipay`` payment carrying ``auth_code`` (the
client's payment code) or ``qr: true`` is answered by ``gateway_pay_response``: 200 with the order when the
gateway took the money, 202 with the order and ``gateway`` (``tender``, ``status`` ``pending``, ``code_url``
for a QR code) while the client is paying, 400 ``gateway_payment_failed`` with the gateway's reason and the
order (its other tenders of the payment taken, the remainder due) when it refused.

``POST /api/v1/orders/{id}/tenders/{tender_id}/refresh/`` asks the gateway about a pending tender;
``POST …/cancel/`` abandons it (the payment is reversed or closed at the gateway).

``POST /api/v1/orders/{id}/refund-parts/{part_id}/resend/`` sends a refund part the gateway refused again
under a new refund number; ``POST …/cash/`` records it given back in cash out of the drawer (both
``issue_refunds``, answered with the order and its refunds).

``POST /api/v1/clients/{id}/top-ups/`` paid by WeChat Pay / Alipay is answered alike by ``top_up_response``,
with the wallet in place of the order: 201 paid (credited), 202 pending, 400 refused.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.permissions import HasRolePermission, acting_user
from apps.crm.models import Client
from apps.loyalty.api.wallets import wallet_body
from apps.payments.selectors import notify_url
from apps.pos.errors import MESSAGES, PosError
from apps.pos.models import Bill, RefundTender, Tender, TenderStatus
from apps.pos.services.gateway_tenders import (
    GatewayTenderResult,
    bill_pay_gateway,
    gateway_tender_cancel,
    gateway_tender_refresh,
    refund_part_given_in_cash,
    refund_part_resend,
)


def gateway_body(result: GatewayTenderResult | Tender) -> dict[str, Any]:
    tender = result.tender if isinstance(result, GatewayTenderResult) else result
    code_url = result.code_url if isinstance(result, GatewayTenderResult) else ""
    return {"tender": tender.pk, "method": tender.method, "status": tender.status, "code_url": code_url}


def result_response(pk: int, result: GatewayTenderResult | Tender, *, cancelled: bool = False) -> Response:
    from apps.pos.api.bills import _detail_body

    tender = result.tender if isinstance(result, GatewayTenderResult) else result
    order = _detail_body(pk)
    if tender.status == TenderStatus.FAILED and not cancelled:
        return Response(
            {
                "detail": tender.failure_message or str(MESSAGES[PosError.GATEWAY_PAYMENT_FAILED]),
                "code": PosError.GATEWAY_PAYMENT_FAILED.value,
                "order": order,
                "gateway": gateway_body(result),
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    answer = status.HTTP_202_ACCEPTED if tender.status == TenderStatus.PENDING else status.HTTP_200_OK
    return Response({**order, "gateway": gateway_body(result)}, status=answer)


def top_up_response(client: Client, result: GatewayTenderResult) -> Response:
    """A top-up paid by WeChat Pay / Alipay (``POST /api/v1/clients/{id}/top-ups/``), answered as the order's
    gateway payments are, with the wallet in place of the order: ``201`` the wallet (credited) when paid,
    ``202`` the wallet (not yet credited) while the client confirms or scans, ``400 gateway_payment_failed``
    with the gateway's reason when refused (the top-up's order voided). Each carries ``order`` (the bill's
    id) and ``gateway``."""
    tender = result.tender
    extra = {"order": result.bill.pk, "gateway": gateway_body(result)}
    if tender.status == TenderStatus.FAILED:
        return Response(
            {
                "detail": tender.failure_message or str(MESSAGES[PosError.GATEWAY_PAYMENT_FAILED]),
                "code": PosError.GATEWAY_PAYMENT_FAILED.value,
                **extra,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    answer = status.HTTP_202_ACCEPTED if tender.status == TenderStatus.PENDING else status.HTTP_201_CREATED
    return Response({**wallet_body(client), **extra}, status=answer)


def gateway_pay_response(request: Request, pk: int, payments: list[dict[str, Any]]) -> Response:
    from apps.pos.api.bills import _key, _tender_requests

    bill = get_object_or_404(Bill.objects.select_related("client"), pk=pk)
    key = _key(request)
    tenders = _tender_requests(bill, payments, key=key)
    gateway = next(p for p in payments if p["method"] in ("wechat", "alipay"))
    qr = bool(gateway.get("qr"))
    result = bill_pay_gateway(
        bill=bill,
        tenders=tenders,
        idempotency_key=key,
        acting_user=acting_user(request),
        auth_code=gateway.get("auth_code") or "",
        qr=qr,
        notify_url=notify_url(request, gateway["method"]) if qr else "",
    )
    return result_response(pk, result)


class GatewayTenderActionView(GenericAPIView):
    """``POST /api/v1/orders/{id}/tenders/{tender_id}/refresh/`` or ``…/cancel/`` (``take_payments``): ask
    the gateway about a pending WeChat Pay / Alipay tender, or abandon it."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"
    serializer_class = serializers.Serializer
    action = "refresh"

    @extend_schema(request=None)
    def post(self, request: Request, pk: int, tender_pk: int) -> Response:
        tender = get_object_or_404(Tender, pk=tender_pk, bill_id=pk)
        if self.action == "cancel":
            tender = gateway_tender_cancel(tender=tender, acting_user=acting_user(request))
            return result_response(pk, tender, cancelled=True)
        return result_response(pk, gateway_tender_refresh(tender=tender))


class RefundPartActionView(GenericAPIView):
    """``POST /api/v1/orders/{id}/refund-parts/{part_id}/resend/`` or ``…/cash/`` (``issue_refunds``): settle
    a WeChat Pay / Alipay refund part the gateway refused; 409 ``refund_part_not_failed`` for any other."""

    permission_classes = [HasRolePermission]
    required_permission = "issue_refunds"
    serializer_class = serializers.Serializer
    action = "resend"

    @extend_schema(request=None)
    def post(self, request: Request, pk: int, part_pk: int) -> Response:
        from apps.pos.api.bills import _detail_body

        part = get_object_or_404(RefundTender, pk=part_pk, refund__bill_id=pk)
        if self.action == "resend":
            refund_part_resend(part=part, acting_user=acting_user(request))
        else:
            refund_part_given_in_cash(part=part, acting_user=acting_user(request))
        return Response(_detail_body(pk))
