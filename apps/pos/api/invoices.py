"""Invoice requests through the API (POS-10). Reading needs ``take_payments`` or ``manage_expenses``;
requesting ``take_payments``; issuing and rejecting ``manage_expenses``; cancelling either."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.permissions import acting_user
from apps.core.roles import perm
from apps.pos.models import Bill, InvoiceRequest, InvoiceStatus, InvoiceType
from apps.pos.selectors.expenses import invoice_request_list
from apps.pos.services import invoices as services


class InvoicePermission(BasePermission):
    """Reads: the front desk (``take_payments``) or the accountant (``manage_expenses``); writes: the view's
    ``required_permission``, or either of the two when it names none."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        codename = None if request.method in SAFE_METHODS else getattr(view, "required_permission", None)
        if codename is not None:
            return bool(user.has_perm(perm(codename)))
        return bool(user.has_perm(perm("take_payments")) or user.has_perm(perm("manage_expenses")))


class InvoiceRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    bill = serializers.PrimaryKeyRelatedField(queryset=Bill.objects.all())
    bill_number = serializers.CharField(source="bill.number", read_only=True)
    invoice_type = serializers.ChoiceField(choices=InvoiceType.choices, required=False, default=InvoiceType.GENERAL)
    title = serializers.CharField(max_length=200)
    buyer_tax_id = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    buyer_address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    buyer_bank = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    amount = serializers.IntegerField(help_text="fen")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    status = serializers.CharField(read_only=True)
    invoice_number = serializers.CharField(read_only=True)
    issued_on = serializers.DateField(read_only=True)
    file_url = serializers.SerializerMethodField()
    reject_reason = serializers.CharField(read_only=True)
    requested_by = serializers.IntegerField(source="requested_by_id", read_only=True, allow_null=True)
    requested_at = serializers.DateTimeField(read_only=True)
    decided_by = serializers.IntegerField(source="decided_by_id", read_only=True, allow_null=True)
    decided_at = serializers.DateTimeField(read_only=True)

    def get_file_url(self, invoice: InvoiceRequest) -> str | None:
        return f"/api/v1/invoice-requests/{invoice.pk}/file/" if invoice.file else None


InvoiceFilterSerializer = type(
    "InvoiceFilterSerializer",
    (serializers.Serializer,),
    {
        "status": serializers.ChoiceField(choices=InvoiceStatus.choices, required=False),
        "from": serializers.DateField(required=False),
        "to": serializers.DateField(required=False),
        "q": serializers.CharField(required=False, max_length=100),
    },
)


class InvoiceRequestListView(GenericAPIView):
    """``/api/v1/invoice-requests/``: requests newest first (``status``, ``from``/``to`` local dates of the
    request, ``q`` a bill number, title, tax ID or invoice number); POST requests an invoice for a paid bill."""

    permission_classes = [InvoicePermission]
    required_permission = "take_payments"
    serializer_class = InvoiceRequestSerializer
    queryset = InvoiceRequest.objects.all()

    @extend_schema(
        operation_id="invoice_requests_list",
        parameters=[
            OpenApiParameter("status", str, enum=list(InvoiceStatus.values)),
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
            OpenApiParameter("q", str),
        ],
    )
    def get(self, request: Request) -> Response:
        query = InvoiceFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        rows = invoice_request_list(
            status=data.get("status", ""), date_from=data.get("from"), date_to=data.get("to"), query=data.get("q", "")
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(InvoiceRequestSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = InvoiceRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.invoice_request_create(acting_user=acting_user(request), **data.validated_data)
        return Response(InvoiceRequestSerializer(created).data, status=status.HTTP_201_CREATED)


class InvoiceRequestDetailView(GenericAPIView):
    permission_classes = [InvoicePermission]
    serializer_class = InvoiceRequestSerializer
    queryset = InvoiceRequest.objects.all()

    def get(self, request: Request, pk: int) -> Response:
        return Response(InvoiceRequestSerializer(get_object_or_404(InvoiceRequest, pk=pk)).data)


class InvoiceIssueSerializer(serializers.Serializer):
    invoice_number = serializers.CharField(max_length=40)
    issued_on = serializers.DateField()
    file = serializers.FileField(required=False, help_text="The invoice: PDF, JPEG, PNG or WebP, ≤ 10 MB")


class InvoiceRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class InvoiceCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class InvoiceRequestIssueView(GenericAPIView):
    """``POST /api/v1/invoice-requests/{id}/issue/`` ``{invoice_number, issued_on[, file]}`` (multipart for
    the file)."""

    permission_classes = [InvoicePermission]
    required_permission = "manage_expenses"
    serializer_class = InvoiceIssueSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    queryset = InvoiceRequest.objects.all()

    @extend_schema(responses=InvoiceRequestSerializer)
    def post(self, request: Request, pk: int) -> Response:
        invoice = get_object_or_404(InvoiceRequest, pk=pk)
        data = InvoiceIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.invoice_request_issue(
            request=invoice, acting_user=acting_user(request), **data.validated_data
        )
        return Response(InvoiceRequestSerializer(issued).data)


class InvoiceRequestRejectView(GenericAPIView):
    """``POST /api/v1/invoice-requests/{id}/reject/`` ``{reason}``."""

    permission_classes = [InvoicePermission]
    required_permission = "manage_expenses"
    serializer_class = InvoiceRejectSerializer
    queryset = InvoiceRequest.objects.all()

    @extend_schema(responses=InvoiceRequestSerializer)
    def post(self, request: Request, pk: int) -> Response:
        invoice = get_object_or_404(InvoiceRequest, pk=pk)
        data = InvoiceRejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rejected = services.invoice_request_reject(
            request=invoice, acting_user=acting_user(request), **data.validated_data
        )
        return Response(InvoiceRequestSerializer(rejected).data)


class InvoiceRequestCancelView(GenericAPIView):
    """``POST /api/v1/invoice-requests/{id}/cancel/`` ``{reason}`` (optional)."""

    permission_classes = [InvoicePermission]
    serializer_class = InvoiceCancelSerializer
    queryset = InvoiceRequest.objects.all()

    @extend_schema(responses=InvoiceRequestSerializer)
    def post(self, request: Request, pk: int) -> Response:
        invoice = get_object_or_404(InvoiceRequest, pk=pk)
        data = InvoiceCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cancelled = services.invoice_request_cancel(
            request=invoice, acting_user=acting_user(request), **data.validated_data
        )
        return Response(InvoiceRequestSerializer(cancelled).data)


class InvoiceRequestFileView(GenericAPIView):
    permission_classes = [InvoicePermission]
    queryset = InvoiceRequest.objects.all()

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> FileResponse:
        invoice = get_object_or_404(InvoiceRequest, pk=pk)
        if not invoice.file:
            raise Http404
        response = FileResponse(invoice.file.open("rb"), content_type=invoice.file_type or None)
        response["Content-Disposition"] = f'attachment; filename="invoice-{invoice.invoice_number}-{invoice.file_name}"'
        return response
