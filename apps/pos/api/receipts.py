"""Receipts through the API (POS-3): a paid order's receipt as JSON (figures and print lines) or PDF, a
print job for the front-desk printer, and the e-receipt to the client. Thin: check the shape, call one
service, serialise. Everything needs ``take_payments``."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.permissions import HasRolePermission, acting_user
from apps.edge.api import PrintJobSerializer
from apps.pos.models import Bill
from apps.pos.receipts_pdf import payload_pdf
from apps.pos.selectors.receipts import Receipt, receipt_as_dict, receipt_payload
from apps.pos.services import receipts as services

RECEIPT_PARAMETERS = [
    OpenApiParameter("width", int, enum=[58, 80], description="Paper width in mm (the till settings' if absent)"),
    OpenApiParameter("lang", str, enum=["zh-hans", "en"], description="Receipt language (Chinese if absent)"),
]


class PrintRequestSerializer(serializers.Serializer):
    copy = serializers.BooleanField(required=False, default=False, help_text="Print another, numbered copy")
    printer = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    idempotency_key = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
    width = serializers.ChoiceField(choices=[58, 80], required=False, allow_null=True, default=None)
    lang = serializers.ChoiceField(choices=["zh-hans", "en"], required=False, allow_null=True, default=None)


class SendRequestSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(
        required=False, allow_blank=True, max_length=120, default="", help_text="The same key sends once"
    )


class _ReceiptView(GenericAPIView):
    permission_classes = [HasRolePermission]
    required_permission = "take_payments"
    read_permission = "take_payments"
    serializer_class: Any = PrintRequestSerializer

    def _bill(self, pk: int) -> Bill:
        bill = Bill.objects.select_related("location", "client").filter(pk=pk).first()
        if bill is None:
            raise Http404
        return bill

    def _receipt(self, request: Request, pk: int) -> Receipt:
        try:
            return services.receipt_of(
                pk, language=request.query_params.get("lang"), width=request.query_params.get("width")
            )
        except LookupError:
            raise Http404


class ReceiptView(_ReceiptView):
    """``GET /api/v1/orders/{id}/receipt/``: the receipt of a paid order (409 while it is not paid)."""

    @extend_schema(parameters=RECEIPT_PARAMETERS, responses=OpenApiResponse(description="The receipt"))
    def get(self, request: Request, pk: int) -> Response:
        return Response(receipt_as_dict(self._receipt(request, pk)))


class ReceiptPdfView(_ReceiptView):
    """``GET /api/v1/orders/{id}/receipt.pdf``: the same receipt as a PDF as wide as the paper."""

    @extend_schema(parameters=RECEIPT_PARAMETERS, responses={(200, "application/pdf"): bytes})
    def get(self, request: Request, pk: int) -> HttpResponse:
        receipt = self._receipt(request, pk)
        response = HttpResponse(
            payload_pdf(receipt_payload(receipt), title=f"{receipt.salon} {receipt.number}", author=receipt.salon),
            content_type="application/pdf",
        )
        response["Content-Disposition"] = f'inline; filename="receipt-{receipt.number}.pdf"'
        return response


class ReceiptPrintView(_ReceiptView):
    """``POST /api/v1/orders/{id}/print/``: queue the receipt for the front-desk printer: 201 with the new
    job, or 200 with the job already queued when the receipt was printed before and no copy is asked."""

    @extend_schema(request=PrintRequestSerializer, responses={201: PrintJobSerializer, 200: PrintJobSerializer})
    def post(self, request: Request, pk: int) -> Response:
        bill = self._bill(pk)
        data = PrintRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        job = services.receipt_print(
            bill=bill,
            copy=v["copy"],
            printer=v["printer"],
            idempotency_key=v["idempotency_key"] or None,
            acting_user=acting_user(request),
            width=v["width"],
            language=v["lang"],
        )
        code = status.HTTP_200_OK if job.is_replay else status.HTTP_201_CREATED
        return Response(PrintJobSerializer(job).data, status=code)


class ReceiptSendView(_ReceiptView):
    """``POST /api/v1/orders/{id}/receipt/send/``: send the receipt to the client (WeChat, text message or
    e-mail) → 202; 400 when the client has none of these or the order has no client."""

    serializer_class = SendRequestSerializer

    @extend_schema(
        request=SendRequestSerializer,
        responses={
            202: inline_serializer(
                "EReceiptSent",
                {
                    "id": serializers.IntegerField(allow_null=True),
                    "replay": serializers.BooleanField(),
                    "channel": serializers.CharField(allow_null=True),
                    "delivery": serializers.IntegerField(allow_null=True),
                },
            )
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        bill = self._bill(pk)
        data = SendRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sent = services.receipt_send(
            bill=bill, idempotency_key=data.validated_data["idempotency_key"] or None, acting_user=acting_user(request)
        )
        body = {
            "id": sent.pk if sent is not None else None,
            "replay": bool(sent is not None and sent.is_replay),
            "channel": sent.channel if sent is not None else None,
            "delivery": sent.delivery_id if sent is not None else None,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)
