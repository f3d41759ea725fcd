"""Expenses (POS-9): what the salon spends, by location and salon-defined category, for the
income/expense/profit statement.

Expenses are a ledger: a row is never changed or deleted. Removing an expense writes a *reversal*
(the same amount, date, location and category, pointing at the expense it cancels); correcting one
writes a reversal and a new expense that ``replaces`` it. The statement sums expenses less reversals,
so a correction lands in the period of the expense it corrects, and the history of who recorded and
who corrected what stays readable.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from apps.core.uploads import TenantUploadTo


class ExpenseCategory(models.Model):
    """A salon's own heading for expenses: rent, wages, products bought, utilities… Deactivated, not deleted,
    once used, so past statements keep their headings."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=60)
    is_active = models.BooleanField(_("in use"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("expense category")
        verbose_name_plural = _("expense categories")
        ordering = ["sort_order", "name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="expense_category_name_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="expense_category_has_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ExpenseKind(models.TextChoices):
    EXPENSE = "expense", _("Expense")
    REVERSAL = "reversal", _("Reversal")


class Expense(models.Model):
    """One amount spent (``kind`` expense), or the reversal of one (``kind`` reversal, ``reverses`` set).

    ``amount`` is always positive; a reversal counts negatively in every total."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ExpenseKind.choices, default=ExpenseKind.EXPENSE)
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="expenses", verbose_name=_("location")
    )
    category = models.ForeignKey(
        ExpenseCategory, on_delete=models.PROTECT, related_name="expenses", verbose_name=_("category")
    )
    amount = models.BigIntegerField(_("amount"))
    spent_on = models.DateField(_("date"))
    payee = models.CharField(_("paid to"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    attachment = models.FileField(
        _("receipt or voucher"), upload_to=TenantUploadTo("pos/expenses"), blank=True, max_length=200
    )
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_type = models.CharField(max_length=60, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversal", verbose_name=_("reverses")
    )
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("corrects"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expense_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind="expense", reverses__isnull=True) | Q(kind="reversal", reverses__isnull=False),
                name="expense_reversal_names_expense",
            ),
            models.CheckConstraint(condition=Q(kind="expense") | ~Q(reason=""), name="expense_reversal_has_reason"),
            models.CheckConstraint(
                condition=Q(kind="expense") | Q(replaces__isnull=True), name="expense_reversal_replaces_nothing"
            ),
        ]
        indexes = [
            models.Index(fields=["spent_on", "location"], name="expense_spent_on_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    @property
    def signed_amount(self) -> int:
        return self.amount if self.kind == ExpenseKind.EXPENSE else -self.amount
