"""Expenses and expense categories through the API (POS-9); everything needs ``manage_expenses``.

Expenses are append-only: ``POST /expenses/{id}/correct/`` answers with the corrected expense (a new
row; the old one gets a reversal) and ``POST /expenses/{id}/reverse/`` with the reversal. There is no
PUT, PATCH or DELETE of an expense."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.models import Location
from apps.core.permissions import HasRolePermission, acting_user
from apps.pos.models import Expense, ExpenseCategory
from apps.pos.selectors.expenses import expense_list
from apps.pos.services import expenses as services


class ExpenseCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=60)
    sort_order = serializers.IntegerField(required=False, default=0)
    is_active = serializers.BooleanField(read_only=True)


class ExpenseCategoryUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60, required=False)
    sort_order = serializers.IntegerField(required=False)
    is_active = serializers.BooleanField(required=False)


class ExpenseCategoryListView(GenericAPIView):
    """``/api/v1/expense-categories/``: the salon's categories (``?is_active=true`` for those in use)."""

    permission_classes = [HasRolePermission]
    read_permission = "manage_expenses"
    required_permission = "manage_expenses"
    serializer_class = ExpenseCategorySerializer
    queryset = ExpenseCategory.objects.all()

    @extend_schema(operation_id="expense_categories_list", parameters=[OpenApiParameter("is_active", bool)])
    def get(self, request: Request) -> Response:
        rows = ExpenseCategory.objects.order_by("sort_order", "name", "id")
        if request.query_params.get("is_active") in ("true", "false"):
            rows = rows.filter(is_active=request.query_params["is_active"] == "true")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ExpenseCategorySerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = ExpenseCategorySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.expense_category_create(acting_user=acting_user(request), **data.validated_data)
        return Response(ExpenseCategorySerializer(category).data, status=status.HTTP_201_CREATED)


class ExpenseCategoryDetailView(GenericAPIView):
    """``/api/v1/expense-categories/{id}/``: PATCH renames, reorders or takes it out of use (``is_active``)."""

    permission_classes = [HasRolePermission]
    read_permission = "manage_expenses"
    required_permission = "manage_expenses"
    serializer_class = ExpenseCategoryUpdateSerializer
    queryset = ExpenseCategory.objects.all()

    @extend_schema(responses=ExpenseCategorySerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ExpenseCategorySerializer(get_object_or_404(ExpenseCategory, pk=pk)).data)

    @extend_schema(responses=ExpenseCategorySerializer)
    def patch(self, request: Request, pk: int) -> Response:
        category = get_object_or_404(ExpenseCategory, pk=pk)
        data = ExpenseCategoryUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.expense_category_update(
            category=category, acting_user=acting_user(request), **data.validated_data
        )
        return Response(ExpenseCategorySerializer(category).data)


class ExpenseSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text="expense, or reversal (counts negatively)")
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    category = serializers.PrimaryKeyRelatedField(queryset=ExpenseCategory.objects.all())
    amount = serializers.IntegerField(help_text="fen, more than zero")
    spent_on = serializers.DateField()
    payee = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    attachment = serializers.FileField(write_only=True, required=False, help_text="PDF, JPEG, PNG or WebP, ≤ 10 MB")
    attachment_url = serializers.SerializerMethodField()
    reverses = serializers.IntegerField(source="reverses_id", read_only=True, allow_null=True)
    replaces = serializers.IntegerField(source="replaces_id", read_only=True, allow_null=True)
    is_current = serializers.SerializerMethodField()
    reason = serializers.CharField(read_only=True)
    recorded_by = serializers.IntegerField(source="recorded_by_id", read_only=True, allow_null=True)
    recorded_at = serializers.DateTimeField(read_only=True)

    def get_attachment_url(self, expense: Expense) -> str | None:
        return f"/api/v1/expenses/{expense.pk}/attachment/" if expense.attachment else None

    def get_is_current(self, expense: Expense) -> bool:
        """Counted in totals: an expense neither reversed nor corrected."""
        return expense.kind == "expense" and not _has_reversal(expense)


def _has_reversal(expense: Expense) -> bool:
    try:
        return expense.reversal is not None
    except Expense.DoesNotExist:
        return False


class ExpenseCorrectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False)
    category = serializers.PrimaryKeyRelatedField(queryset=ExpenseCategory.objects.all(), required=False)
    amount = serializers.IntegerField(required=False)
    spent_on = serializers.DateField(required=False)
    payee = serializers.CharField(max_length=100, required=False, allow_blank=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    attachment = serializers.FileField(required=False)


class ExpenseReverseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


def _filters(params: Any) -> dict[str, Any]:
    query = ExpenseFilterSerializer(data=params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    return {
        "date_from": data.get("from"),
        "date_to": data.get("to"),
        "location": data.get("location"),
        "category": data.get("category"),
        "include_removed": data.get("include_removed", False),
    }


ExpenseFilterSerializer = type(
    "ExpenseFilterSerializer",
    (serializers.Serializer,),
    {
        "from": serializers.DateField(required=False),
        "to": serializers.DateField(required=False),
        "location": serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False),
        "category": serializers.PrimaryKeyRelatedField(queryset=ExpenseCategory.objects.all(), required=False),
        "include_removed": serializers.BooleanField(required=False, default=False),
    },
)


class ExpenseListView(GenericAPIView):
    """``/api/v1/expenses/``: expenses dated ``from`` … ``to`` (``location``, ``category``), newest first,
    only those that count unless ``include_removed=true``; POST records one (JSON, or multipart with an
    ``attachment``)."""

    permission_classes = [HasRolePermission]
    read_permission = "manage_expenses"
    required_permission = "manage_expenses"
    serializer_class = ExpenseSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    queryset = Expense.objects.all()

    @extend_schema(
        operation_id="expenses_list",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
            OpenApiParameter("location", int),
            OpenApiParameter("category", int),
            OpenApiParameter("include_removed", bool),
        ],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(expense_list(**_filters(request.query_params)))
        return self.get_paginated_response(ExpenseSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = ExpenseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        expense = services.expense_record(acting_user=acting_user(request), **data.validated_data)
        return Response(ExpenseSerializer(expense).data, status=status.HTTP_201_CREATED)


class ExpenseDetailView(GenericAPIView):
    permission_classes = [HasRolePermission]
    read_permission = "manage_expenses"
    serializer_class = ExpenseSerializer
    queryset = Expense.objects.all()

    def get(self, request: Request, pk: int) -> Response:
        return Response(ExpenseSerializer(get_object_or_404(Expense, pk=pk)).data)


class ExpenseCorrectView(GenericAPIView):
    """``POST /api/v1/expenses/{id}/correct/``: the fields to change and a ``reason``; answers 201 with the
    corrected expense (a new id), the old one being reversed."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_expenses"
    serializer_class = ExpenseCorrectSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    queryset = Expense.objects.all()

    @extend_schema(responses={201: ExpenseSerializer})
    def post(self, request: Request, pk: int) -> Response:
        expense = get_object_or_404(Expense, pk=pk)
        data = ExpenseCorrectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        corrected = services.expense_correct(expense=expense, acting_user=acting_user(request), **data.validated_data)
        return Response(ExpenseSerializer(corrected).data, status=status.HTTP_201_CREATED)


class ExpenseReverseView(GenericAPIView):
    """``POST /api/v1/expenses/{id}/reverse/`` ``{reason}``: removes the expense; answers 201 with the
    reversal."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_expenses"
    serializer_class = ExpenseReverseSerializer
    queryset = Expense.objects.all()

    @extend_schema(responses={201: ExpenseSerializer})
    def post(self, request: Request, pk: int) -> Response:
        expense = get_object_or_404(Expense, pk=pk)
        data = ExpenseReverseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reversal = services.expense_reverse(expense=expense, acting_user=acting_user(request), **data.validated_data)
        return Response(ExpenseSerializer(reversal).data, status=status.HTTP_201_CREATED)


class ExpenseAttachmentView(GenericAPIView):
    permission_classes = [HasRolePermission]
    read_permission = "manage_expenses"
    queryset = Expense.objects.all()

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> FileResponse:
        expense = get_object_or_404(Expense, pk=pk)
        if not expense.attachment:
            raise Http404
        response = FileResponse(expense.attachment.open("rb"), content_type=expense.attachment_type or None)
        response["Content-Disposition"] = f'attachment; filename="expense-{expense.pk}-{expense.attachment_name}"'
        return response
