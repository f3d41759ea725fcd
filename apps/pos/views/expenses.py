"""Expense pages (POS-9): the list with its filters and the form to record one, an expense with its
correction and removal, its attachment, and the categories. All need ``manage_expenses``."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.money import fen_to_yuan
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.views import apply_service_error
from apps.pos.forms_reports import (
    ExpenseCategoryEditForm,
    ExpenseCategoryForm,
    ExpenseCorrectForm,
    ExpenseFilterForm,
    ExpenseForm,
    ExpenseReverseForm,
)
from apps.pos.models import Expense, ExpenseCategory, ExpenseKind
from apps.pos.selectors.expenses import expense_list as expense_rows
from apps.pos.services import expenses as services


@staff_permission_required("manage_expenses")
def expense_list(request: HttpRequest) -> HttpResponse:
    """Expenses with filters and their total; a POST records a new one."""
    filters = ExpenseFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    form = ExpenseForm(request.POST or None, request.FILES or None, initial={"spent_on": salon_today()})
    if request.method == "POST" and form.is_valid():
        try:
            expense = services.expense_record(acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Expense of ¥%(amount)s recorded.") % {"amount": fen_to_yuan(expense.amount)})
            return redirect("pos:expense_list")
    rows = expense_rows(
        date_from=criteria.get("date_from"),
        date_to=criteria.get("date_to"),
        location=criteria.get("location"),
        category=criteria.get("category"),
        include_removed=bool(criteria.get("show_removed")),
    )
    counted = rows.filter(kind=ExpenseKind.EXPENSE, reversal__isnull=True)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "pos/reports/expenses.html",
        {
            "filters": filters,
            "form": form,
            "page": page,
            "expenses": list(page.object_list),
            "total": counted.aggregate(total=Sum("amount", default=0))["total"],
            "query_string": query.urlencode(),
            "has_categories": ExpenseCategory.objects.filter(is_active=True).exists(),
        },
        status=400 if request.method == "POST" else 200,
    )


def _expense(pk: int) -> Expense:
    return get_object_or_404(
        Expense.objects.select_related("location", "category", "recorded_by", "reverses", "replaces"), pk=pk
    )


def _initial(expense: Expense) -> dict[str, Any]:
    return {
        "spent_on": expense.spent_on,
        "location": expense.location_id,
        "category": expense.category_id,
        "amount": expense.amount,
        "payee": expense.payee,
        "note": expense.note,
    }


@staff_permission_required("manage_expenses")
def expense_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One expense, how it was corrected or removed, and the forms to correct or remove it (as new rows)."""
    expense = _expense(pk)
    reversal = Expense.objects.filter(reverses=expense).select_related("recorded_by").first()
    replaced_by = Expense.objects.filter(replaces=expense).first()
    is_current = expense.kind == ExpenseKind.EXPENSE and reversal is None
    action = request.POST.get("action") if request.method == "POST" else None
    correct_form = ExpenseCorrectForm(
        request.POST if action == "correct" else None,
        request.FILES if action == "correct" else None,
        initial=_initial(expense),
        keep=expense,
        prefix="correct",
    )
    reverse_form = ExpenseReverseForm(request.POST if action == "remove" else None, prefix="remove")
    if request.method == "POST":
        if not is_current:
            messages.error(request, _("This expense was already removed or corrected."))
            return redirect("pos:expense_detail", pk=expense.pk)
        try:
            if action == "correct" and correct_form.is_valid():
                corrected = services.expense_correct(
                    expense=expense, acting_user=acting_user(request), **correct_form.cleaned_data
                )
                messages.success(request, _("The expense was corrected."))
                return redirect("pos:expense_detail", pk=corrected.pk)
            if action == "remove" and reverse_form.is_valid():
                services.expense_reverse(
                    expense=expense, reason=reverse_form.cleaned_data["reason"], acting_user=acting_user(request)
                )
                messages.success(request, _("The expense was removed."))
                return redirect("pos:expense_list")
        except ServiceError as error:
            apply_service_error(correct_form if action == "correct" else reverse_form, error)
    return render(
        request,
        "pos/reports/expense_detail.html",
        {
            "expense": expense,
            "reversal": reversal,
            "replaced_by": replaced_by,
            "is_current": is_current,
            "correct_form": correct_form,
            "reverse_form": reverse_form,
        },
        status=400 if request.method == "POST" else 200,
    )


@staff_permission_required("manage_expenses")
@require_GET
def expense_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt attached to an expense, served only to those who manage expenses."""
    expense = get_object_or_404(Expense, pk=pk)
    if not expense.attachment:
        raise Http404
    try:
        handle = expense.attachment.open("rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(handle, content_type=expense.attachment_type or None)
    response["Content-Disposition"] = f'inline; filename="expense-{expense.pk}-{expense.attachment_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return cast(HttpResponse, response)  # streamed; the permission decorators are typed for HttpResponse


@staff_permission_required("manage_expenses")
def expense_categories(request: HttpRequest) -> HttpResponse:
    """The salon's expense categories; a POST adds one."""
    form = ExpenseCategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            category = services.expense_category_create(acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Category %(name)s added.") % {"name": category.name})
            return redirect("pos:expense_categories")
    return render(
        request,
        "pos/reports/expense_categories.html",
        {"form": form, "categories": list(ExpenseCategory.objects.order_by("sort_order", "name"))},
        status=400 if request.method == "POST" else 200,
    )


@staff_permission_required("manage_expenses")
@require_POST
def expense_category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    category = get_object_or_404(ExpenseCategory, pk=pk)
    form = ExpenseCategoryEditForm(request.POST)
    if form.is_valid():
        try:
            services.expense_category_update(category=category, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Changes saved."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("pos:expense_categories")
