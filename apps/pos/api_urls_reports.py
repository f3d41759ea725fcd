"""Endpoints of sales reports, the statement, expenses and invoice requests (POS-7, POS-9, POS-10)."""

from django.urls import path

from apps.pos.api import expenses, invoices, reports

urlpatterns = [
    path("reports/sales/", reports.SalesReportView.as_view(), name="api-report-sales"),
    path("reports/statement/", reports.StatementView.as_view(), name="api-report-statement"),
    path("expense-categories/", expenses.ExpenseCategoryListView.as_view(), name="api-expense-category-list"),
    path(
        "expense-categories/<int:pk>/",
        expenses.ExpenseCategoryDetailView.as_view(),
        name="api-expense-category-detail",
    ),
    path("expenses/", expenses.ExpenseListView.as_view(), name="api-expense-list"),
    path("expenses/<int:pk>/", expenses.ExpenseDetailView.as_view(), name="api-expense-detail"),
    path("expenses/<int:pk>/correct/", expenses.ExpenseCorrectView.as_view(), name="api-expense-correct"),
    path("expenses/<int:pk>/reverse/", expenses.ExpenseReverseView.as_view(), name="api-expense-reverse"),
    path("expenses/<int:pk>/attachment/", expenses.ExpenseAttachmentView.as_view(), name="api-expense-attachment"),
    path("invoice-requests/", invoices.InvoiceRequestListView.as_view(), name="api-invoice-request-list"),
    path("invoice-requests/<int:pk>/", invoices.InvoiceRequestDetailView.as_view(), name="api-invoice-request-detail"),
    path(
        "invoice-requests/<int:pk>/issue/", invoices.InvoiceRequestIssueView.as_view(), name="api-invoice-request-issue"
    ),
    path(
        "invoice-requests/<int:pk>/reject/",
        invoices.InvoiceRequestRejectView.as_view(),
        name="api-invoice-request-reject",
    ),
    path(
        "invoice-requests/<int:pk>/cancel/",
        invoices.InvoiceRequestCancelView.as_view(),
        name="api-invoice-request-cancel",
    ),
    path("invoice-requests/<int:pk>/file/", invoices.InvoiceRequestFileView.as_view(), name="api-invoice-request-file"),
]
