"""Expenses (POS-9) and the income/expense/profit statement: recording, correcting and removing expenses
as new rows, categories, bad input refused with nothing written, permissions, attachments, the statement's
figures, page, XLSX export and API."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from django_tenants.utils import schema_context
from openpyxl import load_workbook
from PIL import Image

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry, Location
from apps.pos.models import Expense, ExpenseCategory, ExpenseKind
from apps.pos.selectors.statement import statement, statement_bounds
from apps.pos.services.expenses import (
    expense_category_create,
    expense_category_update,
    expense_correct,
    expense_record,
    expense_reverse,
)
from apps.pos.tests.scenario_reports import MARCH_FIRST, MARCH_LAST, arrange_march
from apps.scheduling.models import AppointmentStatus, Deposit, DepositMethod, DepositStatus
from apps.scheduling.tests.support import appointment_insert
from tests.fixtures import api_token, logged_in_client, make_staff, owner_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format="PNG")
    return out.getvalue()


def arrange_expenses(owner: Any, main: Location, branch: Location) -> dict[str, Any]:
    """March: rent ¥1,000 (main), utilities ¥50 (branch), wages ¥300 removed, supplies ¥120 corrected to
    ¥150; April: rent ¥1,000. March's expenses: ¥1,000 + ¥50 + ¥150 = ¥1,200."""
    rent = expense_category_create(name="Rent", sort_order=1, acting_user=owner)
    utilities = expense_category_create(name="Utilities", sort_order=2, acting_user=owner)
    wages = expense_category_create(name="Wages", sort_order=3, acting_user=owner)
    supplies = expense_category_create(name="Supplies", sort_order=4, acting_user=owner)
    d = datetime.date
    made = {
        "rent": expense_record(
            location=main, category=rent, amount=100_000, spent_on=d(2026, 3, 1), payee="Landlord", acting_user=owner
        ),
        "utilities": expense_record(
            location=branch, category=utilities, amount=5_000, spent_on=d(2026, 3, 31), acting_user=owner
        ),
        "wages": expense_record(
            location=main, category=wages, amount=30_000, spent_on=d(2026, 3, 10), acting_user=owner
        ),
        "supplies": expense_record(
            location=main, category=supplies, amount=12_000, spent_on=d(2026, 3, 12), acting_user=owner
        ),
        "april": expense_record(
            location=main, category=rent, amount=100_000, spent_on=d(2026, 4, 1), acting_user=owner
        ),
    }
    made["wages_reversal"] = expense_reverse(expense=made["wages"], reason="entered twice", acting_user=owner)
    made["supplies_fixed"] = expense_correct(
        expense=made["supplies"], amount=15_000, reason="receipt says 150", acting_user=owner
    )
    made["categories"] = {"rent": rent, "utilities": utilities, "wages": wages, "supplies": supplies}
    return made


# --- expenses -------------------------------------------------------------------------------------


def test_record_reverse_and_correct_write_new_rows(in_alpha):
    # given
    owner = owner_of(in_alpha)
    main = Location.objects.order_by("id").first()
    branch = Location.objects.create(name="Branch")
    # when
    made = arrange_expenses(owner, main, branch)
    # then: five expenses, a reversal for the wages, a reversal and a new row for the supplies
    rows = list(Expense.objects.order_by("id").values_list("kind", "amount", "spent_on", "reverses", "replaces"))
    supplies, fixed = made["supplies"], made["supplies_fixed"]
    assert rows[5:] == [
        (ExpenseKind.REVERSAL, 30_000, datetime.date(2026, 3, 10), made["wages"].pk, None),
        (ExpenseKind.REVERSAL, 12_000, datetime.date(2026, 3, 12), supplies.pk, None),
        (ExpenseKind.EXPENSE, 15_000, datetime.date(2026, 3, 12), None, supplies.pk),
    ]
    assert (fixed.category, fixed.location, fixed.reason, fixed.recorded_by) == (
        made["categories"]["supplies"],
        main,
        "receipt says 150",
        owner,
    )
    actions = list(
        AuditEntry.objects.filter(action__startswith="pos.expense.").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["pos.expense.recorded"] * 5 + ["pos.expense.reversed", "pos.expense.corrected"]
    corrected = AuditEntry.objects.get(action="pos.expense.corrected")
    assert (corrected.data["before"]["amount"], corrected.data["after"]["amount"]) == (12_000, 15_000)


def test_an_expense_is_reversed_or_corrected_once(in_alpha):
    # given
    owner = owner_of(in_alpha)
    made = arrange_expenses(owner, Location.objects.order_by("id").first(), Location.objects.create(name="B"))
    before = Expense.objects.count()
    # when / then
    with pytest.raises(ServiceError) as again:
        expense_reverse(expense=made["wages"], reason="again", acting_user=owner)
    assert (again.value.status, again.value.message) == (409, "This expense was already removed or corrected.")
    with pytest.raises(ServiceError) as corrected_twice:
        expense_correct(expense=made["supplies"], amount=1, reason="again", acting_user=owner)
    assert corrected_twice.value.status == 409
    with pytest.raises(ServiceError) as reversal:
        expense_reverse(expense=made["wages_reversal"], reason="undo", acting_user=owner)
    assert reversal.value.code.value == "expense_is_reversal"
    with pytest.raises(ServiceError) as same:
        expense_correct(expense=made["rent"], amount=100_000, reason="nothing", acting_user=owner)
    assert same.value.code.value == "expense_unchanged"
    assert Expense.objects.count() == before


def test_bad_input_is_refused_and_nothing_written(in_alpha):
    # given
    owner = owner_of(in_alpha)
    main = Location.objects.order_by("id").first()
    rent = expense_category_create(name="Rent", acting_user=owner)
    old = expense_category_create(name="Old", acting_user=owner)
    expense_category_update(category=old, is_active=False, acting_user=owner)
    closed = Location.objects.create(name="Closed", is_active=False)
    today = datetime.date(2026, 3, 1)
    cases = [
        ({"amount": 0}, "amount", "Enter an amount above zero (at most ¥100,000,000)."),
        ({"amount": -100}, "amount", None),
        ({"amount": 1.5}, "amount", None),
        ({"amount": 10_000_000_001}, "amount", None),
        ({"spent_on": datetime.date(2099, 1, 1)}, "spent_on", "The date cannot be in the future."),
        ({"category": old}, "category", "This expense category is no longer in use."),
        ({"location": closed}, "location", "This location is closed."),
        ({"payee": "x" * 101}, "payee", "This text is too long."),
        ({"attachment": SimpleUploadedFile("a.exe", b"MZ\x90\x00binary")}, "attachment", None),
        ({"attachment": SimpleUploadedFile("big.pdf", PDF + b"0" * 10 * 1024 * 1024)}, "attachment", None),
    ]
    for change, field, message in cases:
        values = {"location": main, "category": rent, "amount": 10_000, "spent_on": today, **change}
        # when
        with pytest.raises(ServiceError) as refused:
            expense_record(acting_user=owner, **values)
        # then
        assert list(refused.value.errors) == [field], change
        if message:
            assert refused.value.errors[field] == [message]
    assert Expense.objects.count() == 0
    with pytest.raises(ServiceError) as taken:
        expense_category_create(name="rent", acting_user=owner)
    assert taken.value.errors == {"name": ["An expense category with this name already exists."]}
    assert ExpenseCategory.objects.count() == 2


def test_only_expense_managers_write(in_alpha):
    desk = make_staff(in_alpha, role="front_desk", username="desk")
    books = make_staff(in_alpha, role="accountant", username="books")
    with schema_context(in_alpha.schema):
        with pytest.raises(ServiceError) as denied:
            expense_category_create(name="Rent", acting_user=desk)
        assert denied.value.status == 403
        rent = expense_category_create(name="Rent", acting_user=books)
        expense = expense_record(
            location=Location.objects.first(),
            category=rent,
            amount=5,
            spent_on=datetime.date(2026, 3, 1),
            acting_user=books,
        )
        with pytest.raises(ServiceError):
            expense_reverse(expense=expense, reason="no", acting_user=desk)
        assert Expense.objects.count() == 1


def _api(info: Any, username: str | None = None) -> Client:
    return Client(
        HTTP_HOST=info.host,
        HTTP_AUTHORIZATION=f"Bearer {api_token(info, username or info.owner_username)}",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_api_records_lists_corrects_and_reverses(alpha):
    # given
    api = _api(alpha)
    with schema_context(alpha.schema):
        main = Location.objects.order_by("id").first()
    category = api.post("/api/v1/expense-categories/", {"name": "Rent"}, content_type="application/json").json()
    # when: one with a receipt (multipart), one in JSON
    made = api.post(
        "/api/v1/expenses/",
        {
            "location": main.pk,
            "category": category["id"],
            "amount": "250000",
            "spent_on": "2026-03-01",
            "payee": "Landlord",
            "attachment": SimpleUploadedFile("march.pdf", PDF, content_type="application/pdf"),
        },
    )
    other = api.post(
        "/api/v1/expenses/",
        {"location": main.pk, "category": category["id"], "amount": 1_000, "spent_on": "2026-03-02"},
        content_type="application/json",
    )
    # then
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["kind"], body["amount"], body["payee"], body["is_current"]) == ("expense", 250_000, "Landlord", True)
    receipt = api.get(body["attachment_url"])
    assert (receipt.status_code, receipt["Content-Type"], b"".join(receipt.streaming_content)) == (
        200,
        "application/pdf",
        PDF,
    )
    # corrected: a new row answers, the old one is reversed
    fixed = api.post(
        f"/api/v1/expenses/{body['id']}/correct/",
        {"amount": 240_000, "reason": "discount"},
        content_type="application/json",
    )
    assert fixed.status_code == 201, fixed.content
    assert (fixed.json()["amount"], fixed.json()["replaces"], fixed.json()["attachment_url"] is not None) == (
        240_000,
        body["id"],
        True,
    )
    removed = api.post(f"/api/v1/expenses/{other.json()['id']}/reverse/", {"reason": "duplicate"})
    assert (removed.status_code, removed.json()["kind"], removed.json()["reverses"]) == (
        201,
        "reversal",
        other.json()["id"],
    )
    listed = api.get("/api/v1/expenses/", {"from": "2026-03-01", "to": "2026-03-31"}).json()
    assert [(row["amount"], row["is_current"]) for row in listed["results"]] == [(240_000, True)]
    everything = api.get("/api/v1/expenses/", {"include_removed": "true"}).json()
    assert everything["count"] == 5
    assert api.get(f"/api/v1/expenses/{body['id']}/").json()["is_current"] is False


def test_api_bad_input_gives_400_and_writes_nothing(alpha):
    api = _api(alpha)
    with schema_context(alpha.schema):
        main = Location.objects.order_by("id").first()
    category = api.post("/api/v1/expense-categories/", {"name": "Rent"}, content_type="application/json").json()
    good = {"location": main.pk, "category": category["id"], "amount": 1_000, "spent_on": "2026-03-02"}
    for change, field in (
        ({"amount": 0}, "amount"),
        ({"amount": "12.5"}, "amount"),
        ({"amount": None}, "amount"),
        ({"spent_on": "2099-01-01"}, "spent_on"),
        ({"spent_on": "soon"}, "spent_on"),
        ({"category": 999_999}, "category"),
        ({"location": None}, "location"),
        ({"note": "x" * 501}, "note"),
    ):
        response = api.post("/api/v1/expenses/", {**good, **change}, content_type="application/json")
        assert (response.status_code, list(response.json())) == (400, [field]), change
    bad_file = api.post(
        "/api/v1/expenses/",
        {**good, "attachment": SimpleUploadedFile("x.pdf", b"not a pdf", content_type="application/pdf")},
    )
    assert bad_file.json() == {"attachment": ["Attach a PDF, JPEG, PNG or WebP file."]}
    duplicate = api.post("/api/v1/expense-categories/", {"name": "RENT"}, content_type="application/json")
    assert (duplicate.status_code, duplicate.json()) == (
        400,
        {"name": ["An expense category with this name already exists."]},
    )
    with schema_context(alpha.schema):
        assert (Expense.objects.count(), ExpenseCategory.objects.count()) == (0, 1)
    desk = make_staff(alpha, role="front_desk", username="desk")
    assert desk is not None
    desk_api = _api(alpha, "desk")
    assert desk_api.get("/api/v1/expenses/").status_code == 403
    assert desk_api.post("/api/v1/expenses/", good, content_type="application/json").status_code == 403
    with schema_context(alpha.schema):
        assert Expense.objects.count() == 0


def test_pages_record_correct_and_remove(alpha):
    # given
    make_staff(alpha, role="accountant", username="books")
    books = logged_in_client(alpha, "books")
    books.post("/account/language/", {"language": "en"})
    with schema_context(alpha.schema):
        main = Location.objects.order_by("id").first()
    assert books.post("/till/expenses/categories/", {"name": "Rent", "sort_order": 0}).status_code == 302
    with schema_context(alpha.schema):
        rent = ExpenseCategory.objects.get()
    # when: recorded with a photo of the receipt
    recorded = books.post(
        "/till/expenses/",
        {
            "spent_on": "2026-03-01",
            "location": main.pk,
            "category": rent.pk,
            "amount": "1234.50",
            "payee": "Landlord",
            "attachment": SimpleUploadedFile("receipt.png", png_bytes(), content_type="image/png"),
        },
    )
    # then
    assert recorded.status_code == 302, recorded.context["form"].errors
    with schema_context(alpha.schema):
        expense = Expense.objects.get()
    assert (expense.amount, expense.attachment_type, expense.attachment_name) == (123_450, "image/png", "receipt.png")
    page = books.get("/till/expenses/")
    assert '<p data-figure="total">Total: ¥1,234.50</p>' in page.content.decode()
    assert books.get(f"/till/expenses/{expense.pk}/attachment/")["Content-Type"] == "image/png"
    refused = books.post(
        "/till/expenses/",
        {"spent_on": "2026-03-01", "location": main.pk, "category": rent.pk, "amount": "0"},
    )
    assert refused.status_code == 400
    # corrected, then the correction removed
    fixed = books.post(
        f"/till/expenses/{expense.pk}/",
        {
            "action": "correct",
            "correct-spent_on": "2026-03-02",
            "correct-location": main.pk,
            "correct-category": rent.pk,
            "correct-amount": "1200",
            "correct-payee": "Landlord",
            "correct-reason": "typo",
        },
    )
    assert fixed.status_code == 302
    with schema_context(alpha.schema):
        new = Expense.objects.get(replaces=expense)
    assert (new.amount, new.spent_on, new.attachment_name) == (120_000, datetime.date(2026, 3, 2), "receipt.png")
    assert (
        books.post(f"/till/expenses/{new.pk}/", {"action": "remove", "remove-reason": "moved out"}).status_code == 302
    )
    assert '<p data-figure="total">Total: ¥0.00</p>' in books.get("/till/expenses/").content.decode()
    # the front desk sees none of it
    make_staff(alpha, role="front_desk", username="desk")
    assert logged_in_client(alpha, "desk").get("/till/expenses/").status_code == 403


# --- the statement --------------------------------------------------------------------------------


def test_statement_figures(in_alpha, beta):
    # given
    march = arrange_march()
    arrange_expenses(owner_of(in_alpha), march.main, march.branch)
    # when
    everywhere = statement(date_from=MARCH_FIRST, date_to=MARCH_LAST)
    branch = statement(date_from=MARCH_FIRST, date_to=MARCH_LAST, location=march.branch)
    # then
    assert [(line.key, line.amount) for line in everywhere.sales] == [
        ("service", 87_000),
        ("product", 24_000),
        ("package", 0),
        ("course_card", 60_000),
    ]
    assert everywhere.net_sales == 171_000
    assert [(line.key, line.amount) for line in everywhere.deductions] == [
        ("course_card", 10_000),
        ("points", 2_000),
        ("refunds", 0),
    ]
    assert (everywhere.income, everywhere.top_ups) == (159_000, 100_000)
    assert [(line.label, line.amount) for line in everywhere.expenses] == [
        ("Rent", 100_000),
        ("Utilities", 5_000),
        ("Supplies", 15_000),
    ]
    assert (everywhere.expenses_total, everywhere.profit) == (120_000, 39_000)
    assert (branch.net_sales, branch.income, branch.top_ups, branch.expenses_total, branch.profit) == (
        30_000,
        30_000,
        0,
        5_000,
        25_000,
    )
    assert statement_bounds("quarter", datetime.date(2026, 5, 20)) == (
        datetime.date(2026, 4, 1),
        datetime.date(2026, 6, 30),
    )
    assert statement_bounds("year", datetime.date(2026, 5, 20)) == (
        datetime.date(2026, 1, 1),
        datetime.date(2026, 12, 31),
    )
    assert statement_bounds("month", datetime.date(2026, 12, 5)) == (
        datetime.date(2026, 12, 1),
        datetime.date(2026, 12, 31),
    )
    quarter = statement(date_from=datetime.date(2026, 1, 1), date_to=datetime.date(2026, 3, 31))
    assert (quarter.net_sales, quarter.expenses_total) == (171_000 + 10_000, 120_000)  # February's B3 sale too


def test_booking_deposits_kept_are_income_of_the_period_they_were_kept_in(in_alpha):
    # given March's sales, and deposits of visits at each location: ¥50 kept on a no-show at the main shop
    # on 20 March, ¥30 kept at the branch on 21 March, ¥40 kept on 1 April, ¥70 given back in March
    march = arrange_march()
    technician = make_staff(in_alpha, role="technician", username="tech-dep")
    shanghai = datetime.timezone(datetime.timedelta(hours=8))

    def deposit(amount: int, status: str, day: datetime.date, location: Location) -> None:
        visit = appointment_insert(
            client=march.wang,
            start=datetime.datetime(2026, 3, 2, 2, 0, tzinfo=datetime.UTC),
            lines=[(march.cut, technician)],
            location=location,
            status=AppointmentStatus.NO_SHOW,
        )
        Deposit.objects.create(
            appointment=visit,
            amount=amount,
            method=DepositMethod.DESK,
            status=status,
            settled_at=datetime.datetime.combine(day, datetime.time(12), tzinfo=shanghai),
        )

    deposit(5_000, DepositStatus.FORFEITED, datetime.date(2026, 3, 20), march.main)
    deposit(3_000, DepositStatus.FORFEITED, datetime.date(2026, 3, 21), march.branch)
    deposit(4_000, DepositStatus.FORFEITED, datetime.date(2026, 4, 1), march.main)
    deposit(7_000, DepositStatus.RETURNED, datetime.date(2026, 3, 22), march.main)
    # when March's statement is read for the chain and for the branch
    everywhere = statement(date_from=MARCH_FIRST, date_to=MARCH_LAST)
    branch = statement(date_from=MARCH_FIRST, date_to=MARCH_LAST, location=march.branch)
    # then what was kept in March is income there, on top of the sales (159,000 without it)
    assert [(line.key, line.amount) for line in everywhere.other_income] == [("deposits_kept", 8_000)]
    assert everywhere.income == 159_000 + 8_000
    assert ([line.amount for line in branch.other_income], branch.income) == ([3_000], 30_000 + 3_000)


def test_statement_page_export_and_api(alpha, beta):
    # given
    with schema_context(alpha.schema):
        march = arrange_march()
        arrange_expenses(owner_of(alpha), march.main, march.branch)
    owner = logged_in_client(alpha, alpha.owner_username)
    owner.post("/account/language/", {"language": "en"})
    query = {"period": "month", "date": "2026-03-09"}
    # when
    page = owner.get("/till/reports/statement/", query)
    export = owner.get("/till/reports/statement/export.xlsx", query)
    api = _api(alpha).get("/api/v1/reports/statement/", {"period": "custom", "from": "2026-03-01", "to": "2026-03-31"})
    # then
    html = page.content.decode()
    assert '<tr class="total" data-line="income"><th scope="row">Income</th><td class="num">¥1,590.00</td></tr>' in html
    assert '<p data-figure="top-ups" class="figure">¥1,000.00</p>' in html
    assert "plus: Booking deposits kept (no-shows, late cancellations)" in html
    assert '<p data-figure="profit" class="figure">¥390.00</p>' in html
    assert export.status_code == 200
    assert export["Content-Disposition"] == 'attachment; filename="statement-2026-03-01-2026-03-31.xlsx"'
    rows = {
        row[0]: row[1]
        for row in load_workbook(io.BytesIO(export.content))["Statement"].iter_rows(values_only=True)
        if row
    }
    assert (rows["Net sales"], rows["Total expenses"], rows["Profit"]) == (1710, 1200, 390)
    assert rows["Stored-value top-ups (held for clients, not income)"] == 1000
    assert rows["less: Paid with points (a discount, not money)"] == 20
    assert rows["plus: Booking deposits kept (no-shows, late cancellations)"] == 0
    body = api.json()
    assert (body["net_sales"], body["income"], body["expenses_total"], body["profit"]) == (
        171_000,
        159_000,
        120_000,
        39_000,
    )
    with schema_context(alpha.schema):
        assert AuditEntry.objects.filter(action="pos.statement.exported").count() == 1
    # a manager reads it but does not export; the front desk does neither
    make_staff(alpha, role="manager", username="boss")
    make_staff(alpha, role="front_desk", username="desk")
    assert logged_in_client(alpha, "boss").get("/till/reports/statement/export.xlsx", query).status_code == 403
    assert logged_in_client(alpha, "desk").get("/till/reports/statement/", query).status_code == 403
    assert _api(alpha, "desk").get("/api/v1/reports/statement/").status_code == 403
    custom = _api(alpha).get("/api/v1/reports/statement/", {"period": "custom", "from": "2026-03-01"})
    assert (custom.status_code, custom.json()) == (400, {"to": ["This field is required."]})
    assert _api(beta).get("/api/v1/reports/statement/", {"date": "2026-03-01"}).json()["net_sales"] == 0
