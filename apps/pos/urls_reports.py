"""Pages of sales reports, the statement, expenses and invoice requests (POS-7, POS-9, POS-10), under /till/."""

from django.urls import path

from apps.pos.views import expenses, invoices, reports

urlpatterns = [
    path("reports/sales/", reports.sales_report, name="sales_report"),
    path("reports/sales/export.xlsx", reports.sales_report_export, name="sales_report_export"),
    path("reports/statement/", reports.statement, name="statement"),
    path("reports/statement/export.xlsx", reports.statement_export, name="statement_export"),
    path("expenses/", expenses.expense_list, name="expense_list"),
    path("expenses/<int:pk>/", expenses.expense_detail, name="expense_detail"),
    path("expenses/<int:pk>/attachment/", expenses.expense_attachment, name="expense_attachment"),
    path("expenses/categories/", expenses.expense_categories, name="expense_categories"),
    path("expenses/categories/<int:pk>/", expenses.expense_category_edit, name="expense_category_edit"),
    path("invoices/", invoices.invoice_list, name="invoice_list"),
    path("invoices/new/", invoices.invoice_new, name="invoice_new"),
    path("invoices/<int:pk>/", invoices.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/file/", invoices.invoice_file, name="invoice_file"),
]
