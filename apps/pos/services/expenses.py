"""Expenses and their categories (POS-9). Every write needs ``manage_expenses`` and is audited.

Expenses are append-only (see apps/pos/models/expenses.py): ``expense_reverse`` removes one by writing
its reversal, ``expense_correct`` writes a reversal and the corrected expense in one transaction.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from apps.core.db import salon_today
from apps.core.models import Location, User
from apps.core.money import MAX_AMOUNT
from apps.core.roles import perm
from apps.core.services import audit_record
from apps.pos.errors import PosError, pos_error
from apps.pos.models import Expense, ExpenseCategory, ExpenseKind
from apps.pos.services.attachments import attachment_check

EARLIEST_DATE = datetime.date(2000, 1, 1)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def require_permission(user: User | None, codename: str) -> None:
    """Services check the permission too, so an API or a task cannot skip the page's check."""
    if user is None or not user.pk or not user.has_perm(perm(codename)):
        raise pos_error(PosError.ACCOUNTS_PERMISSION_DENIED)


def text(value: Any, *, field: str, limit: int, required: bool = False) -> str:
    value = "" if value is None else str(value).strip()
    if "\x00" in value or len(value) > limit:
        raise pos_error(PosError.ACCOUNTS_TEXT_TOO_LONG, field=field)
    if required and not value:
        raise pos_error(PosError.ACCOUNTS_REQUIRED, field=field)
    return value


def amount_check(value: Any, *, field: str = "amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > MAX_AMOUNT:
        raise pos_error(PosError.ACCOUNTS_AMOUNT_INVALID, field=field)
    return value


def past_date(value: Any, *, field: str) -> datetime.date:
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise pos_error(PosError.ACCOUNTS_REQUIRED, field=field)
    if value > salon_today():
        raise pos_error(PosError.ACCOUNTS_DATE_IN_FUTURE, field=field)
    if value < EARLIEST_DATE:
        raise pos_error(PosError.INVALID, field=field)
    return value


# --- categories -----------------------------------------------------------------------------------


def _category_name(name: Any, *, exclude_pk: int | None = None) -> str:
    name = text(name, field="name", limit=60, required=True)
    taken = ExpenseCategory.objects.annotate(lower=Lower("name")).filter(lower=name.lower())
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise pos_error(PosError.EXPENSE_CATEGORY_TAKEN)
    return name


def _category_save(category: ExpenseCategory) -> None:
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError:  # a concurrent request took the name first
        raise pos_error(PosError.EXPENSE_CATEGORY_TAKEN) from None


def _sort_order(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 32767:
        raise pos_error(PosError.INVALID, field="sort_order")
    return value


@transaction.atomic
def expense_category_create(*, name: str, sort_order: int = 0, acting_user: User | None) -> ExpenseCategory:
    """Add a heading for expenses; names are unique whatever their case."""
    require_permission(acting_user, "manage_expenses")
    category = ExpenseCategory(name=_category_name(name), sort_order=_sort_order(sort_order))
    _category_save(category)
    audit_record(
        action="pos.expense_category.created", actor=acting_user, target=category, data={"name": category.name}
    )
    return category


@transaction.atomic
def expense_category_update(
    *,
    category: ExpenseCategory,
    acting_user: User | None,
    name: Any = UNSET,
    sort_order: Any = UNSET,
    is_active: Any = UNSET,
) -> ExpenseCategory:
    """Rename, reorder, or take a category out of use (past expenses keep it; new ones cannot use it)."""
    require_permission(acting_user, "manage_expenses")
    category = ExpenseCategory.objects.select_for_update().get(pk=category.pk)
    before = {"name": category.name, "sort_order": category.sort_order, "is_active": category.is_active}
    if name is not UNSET:
        category.name = _category_name(name, exclude_pk=category.pk)
    if sort_order is not UNSET:
        category.sort_order = _sort_order(sort_order)
    if is_active is not UNSET:
        if not isinstance(is_active, bool):
            raise pos_error(PosError.INVALID, field="is_active")
        category.is_active = is_active
    after = {"name": category.name, "sort_order": category.sort_order, "is_active": category.is_active}
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changed:
        _category_save(category)
        audit_record(action="pos.expense_category.updated", actor=acting_user, target=category, data=changed)
    return category


# --- expenses -------------------------------------------------------------------------------------


def _values(
    *,
    location: Any,
    category: Any,
    amount: Any,
    spent_on: Any,
    payee: Any,
    note: Any,
    corrects: Expense | None = None,
) -> dict[str, Any]:
    """Checked values of an expense. A correction may keep the location and category of the expense it
    corrects even if they have since closed or gone out of use."""
    if not isinstance(location, Location):
        raise pos_error(PosError.ACCOUNTS_REQUIRED, field="location")
    # Read from the database, not the caller's copy: a location or category closed a moment ago is closed.
    is_open = Location.objects.filter(pk=location.pk, is_active=True).exists()
    if not is_open and not (corrects is not None and location.pk == corrects.location_id):
        raise pos_error(PosError.ACCOUNTS_LOCATION_INACTIVE)
    if not isinstance(category, ExpenseCategory):
        raise pos_error(PosError.ACCOUNTS_REQUIRED, field="category")
    in_use = ExpenseCategory.objects.filter(pk=category.pk, is_active=True).exists()
    if not in_use and not (corrects is not None and category.pk == corrects.category_id):
        raise pos_error(PosError.EXPENSE_CATEGORY_INACTIVE)
    return {
        "location": location,
        "category": category,
        "amount": amount_check(amount),
        "spent_on": past_date(spent_on, field="spent_on"),
        "payee": text(payee, field="payee", limit=100),
        "note": text(note, field="note", limit=500),
    }


def _attach(expense: Expense, upload: UploadedFile | None) -> None:
    if upload is None:
        return
    checked = attachment_check(upload)
    expense.attachment = checked.upload  # type: ignore[assignment]
    expense.attachment_name = checked.name
    expense.attachment_type = checked.content_type


def _audit_data(expense: Expense) -> dict[str, Any]:
    return {
        "amount": expense.amount,
        "spent_on": expense.spent_on.isoformat(),
        "location": expense.location_id,
        "category": expense.category_id,
        "payee": expense.payee,
    }


@transaction.atomic
def expense_record(
    *,
    location: Location,
    category: ExpenseCategory,
    amount: int,
    spent_on: datetime.date,
    payee: str = "",
    note: str = "",
    attachment: UploadedFile | None = None,
    acting_user: User | None,
) -> Expense:
    """Record money spent: more than zero, dated today or earlier, at an open location, under a category in
    use; a receipt (PDF or picture, at most 10 MB) may be attached."""
    require_permission(acting_user, "manage_expenses")
    expense = Expense(
        kind=ExpenseKind.EXPENSE,
        recorded_by=acting_user,
        **_values(location=location, category=category, amount=amount, spent_on=spent_on, payee=payee, note=note),
    )
    _attach(expense, attachment)
    expense.save()
    audit_record(action="pos.expense.recorded", actor=acting_user, target=expense, data=_audit_data(expense))
    return expense


def _locked_expense(expense: Expense) -> Expense:
    locked = Expense.objects.select_for_update().get(pk=expense.pk)
    if locked.kind != ExpenseKind.EXPENSE:
        raise pos_error(PosError.EXPENSE_IS_REVERSAL)
    if Expense.objects.filter(reverses=locked).exists():
        raise pos_error(PosError.EXPENSE_REVERSED)
    return locked


def _reversal_of(expense: Expense, *, reason: str, acting_user: User | None) -> Expense:
    """The row that cancels ``expense``: same amount, date, location and category, so it nets to zero in
    the expense's own period."""
    reversal = Expense(
        kind=ExpenseKind.REVERSAL,
        reverses=expense,
        location_id=expense.location_id,
        category_id=expense.category_id,
        amount=expense.amount,
        spent_on=expense.spent_on,
        payee=expense.payee,
        reason=reason,
        recorded_by=acting_user,
    )
    try:
        with transaction.atomic():
            reversal.save()
    except IntegrityError:  # another request reversed it first (one reversal per expense)
        raise pos_error(PosError.EXPENSE_REVERSED) from None
    return reversal


@transaction.atomic
def expense_reverse(*, expense: Expense, reason: str, acting_user: User | None) -> Expense:
    """Remove an expense by writing its reversal (with the reason); returns the reversal. An expense is
    reversed at most once."""
    require_permission(acting_user, "manage_expenses")
    reason = text(reason, field="reason", limit=200, required=True)
    locked = _locked_expense(expense)
    reversal = _reversal_of(locked, reason=reason, acting_user=acting_user)
    audit_record(
        action="pos.expense.reversed",
        actor=acting_user,
        target=locked,
        data={**_audit_data(locked), "reason": reason, "reversal": reversal.pk},
    )
    return reversal


@transaction.atomic
def expense_correct(
    *,
    expense: Expense,
    reason: str,
    acting_user: User | None,
    location: Any = UNSET,
    category: Any = UNSET,
    amount: Any = UNSET,
    spent_on: Any = UNSET,
    payee: Any = UNSET,
    note: Any = UNSET,
    attachment: UploadedFile | None = None,
) -> Expense:
    """Correct an expense: its reversal and the corrected expense (which ``replaces`` it) are written
    together; fields not given keep their value, and so does the attachment unless a new one is given.
    Returns the corrected expense."""
    require_permission(acting_user, "manage_expenses")
    reason = text(reason, field="reason", limit=200, required=True)
    locked = _locked_expense(expense)
    current = {
        "location": locked.location,
        "category": locked.category,
        "amount": locked.amount,
        "spent_on": locked.spent_on,
        "payee": locked.payee,
        "note": locked.note,
    }
    given = {"location": location, "category": category, "amount": amount, "spent_on": spent_on}
    given |= {"payee": payee, "note": note}
    wanted = {key: (current[key] if value is UNSET else value) for key, value in given.items()}
    values = _values(**wanted, corrects=locked)
    unchanged = all(values[key] == current[key] for key in current)
    if unchanged and attachment is None:
        raise pos_error(PosError.EXPENSE_UNCHANGED)
    reversal = _reversal_of(locked, reason=reason, acting_user=acting_user)
    corrected = Expense(
        kind=ExpenseKind.EXPENSE,
        replaces=locked,
        reason=reason,
        recorded_by=acting_user,
        attachment=locked.attachment.name if locked.attachment else "",
        attachment_name=locked.attachment_name,
        attachment_type=locked.attachment_type,
        **values,
    )
    _attach(corrected, attachment)
    corrected.save()
    audit_record(
        action="pos.expense.corrected",
        actor=acting_user,
        target=locked,
        data={
            "reason": reason,
            "reversal": reversal.pk,
            "corrected": corrected.pk,
            "before": _audit_data(locked),
            "after": _audit_data(corrected),
        },
    )
    return corrected
