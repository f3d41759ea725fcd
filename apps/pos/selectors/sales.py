"""Sales reports (POS-7): revenue, clients, bills, average ticket, sales by kind, top services and
products, and the tender mix of a period, per location or for the whole chain (UX-5).

Definitions (docs/till-reports.md repeats them for people):

- **Period**: local dates ``date_from`` … ``date_to`` of the salon (inclusive, at most 366 days), i.e.
  from local midnight of the first day to local midnight after the last. Rows (``period``: day, week or
  month) are bucketed in SQL by the local date (``AT TIME ZONE``); weeks start on Monday and the first
  and last row are cut to the period.
- **A sale** is a bill paid in the period (``paid_at``), whether or not it was refunded later. Voided
  bills are left out everywhere (a void undoes the bill).
- **Refunds** count on the day they were made (``Refund.created_at``), succeeded ones only, so a closed
  day never changes: a refund of last month's bill lowers this month's revenue.
- **Gross sales** = Σ totals of the bills sold; **revenue** = gross sales − refunds.
- **Bills** = bills sold; **clients** = distinct clients among them plus one per walk-in bill (a bill
  without a client); **average ticket** = revenue ÷ bills.
- **By kind / top items**: line amounts (after discounts) sold, less refund lines made in the period.
  Stored-value top-ups are a kind of their own (money taken for services still owed).
- **Tender mix**: succeeded tenders of the bills sold, by method, less the succeeded refund parts given
  back to tenders of each method in the period.

Six statements whatever the size of the period, plus the names of the top items and of the locations.
Each reads only the period's rows, from covering indexes (``bill_paid_report_idx``,
``bill_line_report_idx``, ``tender_report_idx``), so a month's report costs the same however long the
salon's history is (docs/benchmarks.md: one month of a salon with 1,000,000 lines).
"""

from __future__ import annotations

import datetime
import io
import zoneinfo
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from apps.catalog.models import Product, Service
from apps.core.db import salon_timezone
from apps.core.models import Location
from apps.pos.errors import PosError, pos_error
from apps.pos.models import Bill, BillLine, LineKind, Refund, RefundLine, RefundTender, Tender, TenderMethod

MAX_REPORT_DAYS = 366
TOP_ITEMS = 10
Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")

# The kinds whose sales are income (a top-up is stored value the salon still owes, not income).
INCOME_KINDS = (LineKind.SERVICE, LineKind.PRODUCT, LineKind.PACKAGE, LineKind.COURSE_CARD)


@dataclass(frozen=True)
class Window:
    """Local dates and the UTC instants that bound them."""

    date_from: datetime.date
    date_to: datetime.date
    start: datetime.datetime
    end: datetime.datetime
    tz: zoneinfo.ZoneInfo
    location_id: int | None


def report_period_check(*, date_from: datetime.date, date_to: datetime.date) -> None:
    """Refuse a period that ends before it starts or is longer than 366 days."""
    if date_to < date_from:
        raise pos_error(PosError.REPORT_PERIOD_BACKWARDS)
    if (date_to - date_from).days + 1 > MAX_REPORT_DAYS:
        raise pos_error(PosError.REPORT_PERIOD_TOO_LONG)


def report_window(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    location: Location | None = None,
    tz: zoneinfo.ZoneInfo | None = None,
) -> Window:
    report_period_check(date_from=date_from, date_to=date_to)
    tz = tz or salon_timezone()
    return Window(
        date_from=date_from,
        date_to=date_to,
        start=datetime.datetime.combine(date_from, datetime.time(0), tzinfo=tz).astimezone(datetime.UTC),
        end=datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time(0), tzinfo=tz).astimezone(
            datetime.UTC
        ),
        tz=tz,
        location_id=location.pk if location is not None else None,
    )


def period_bounds(period: Period, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The day, ISO week (Monday to Sunday) or calendar month that holds ``day``."""
    if period == "day":
        return day, day
    if period == "week":
        monday = day - datetime.timedelta(days=day.weekday())
        return monday, monday + datetime.timedelta(days=6)
    first = day.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following - datetime.timedelta(days=1)


def _bucket_start(period: Period, day: datetime.date) -> datetime.date:
    return period_bounds(period, day)[0]


# --- the figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SalesRow:
    """One day, week or month of the period (``start`` … ``end``, cut to the period)."""

    start: datetime.date
    end: datetime.date
    gross: int
    refunds: int
    revenue: int
    bills: int
    clients: int
    average_ticket: int | None


@dataclass(frozen=True)
class KindFigure:
    kind: str
    label: str
    sold: int
    refunded: int
    net: int


@dataclass(frozen=True)
class ItemFigure:
    item_id: int
    name: str
    quantity: int  # sold less refunded
    amount: int  # sold less refunded
    sold_quantity: int
    sold_amount: int
    refunded_quantity: int
    refunded_amount: int


@dataclass(frozen=True)
class TenderFigure:
    method: str
    label: str
    taken: int
    refunded: int
    net: int


@dataclass(frozen=True)
class LocationFigure:
    location_id: int
    name: str
    gross: int
    refunds: int
    revenue: int
    bills: int
    clients: int
    average_ticket: int | None


@dataclass(frozen=True)
class SalesReport:
    date_from: datetime.date
    date_to: datetime.date
    period: str
    location_id: int | None
    timezone: str
    gross: int
    refunds: int
    revenue: int
    bills: int
    clients: int
    walk_ins: int
    average_ticket: int | None
    top_ups: int  # net stored-value top-ups (part of revenue, not income)
    refunds_without_lines: int  # refunds not tied to a bill line (by-kind figures leave them out)
    rows: list[SalesRow]
    by_kind: list[KindFigure]
    top_services_by_revenue: list[ItemFigure]
    top_services_by_quantity: list[ItemFigure]
    top_products_by_revenue: list[ItemFigure]
    top_products_by_quantity: list[ItemFigure]
    tenders: list[TenderFigure]
    locations: list[LocationFigure] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (the API returns this); money in fen."""
        data = asdict(self)
        data["date_from"] = self.date_from.isoformat()
        data["date_to"] = self.date_to.isoformat()
        for row in data["rows"]:
            row["start"] = row["start"].isoformat()
            row["end"] = row["end"].isoformat()
        return data


def _average(revenue: int, bills: int) -> int | None:
    return round(revenue / bills) if bills else None


def scope_sql(window: Window, *, refunds: bool) -> tuple[str, list[Any]]:
    """The WHERE clause of the bills sold in the window (alias ``b``) or of the refunds made in it
    (alias ``r``, joined to its bill ``b``), with its parameters."""
    if refunds:
        sql = "r.status = 'succeeded' AND r.created_at >= %s AND r.created_at < %s AND b.status <> 'voided'"
    else:
        sql = "b.status IN ('paid', 'refunded') AND b.paid_at >= %s AND b.paid_at < %s"
    params: list[Any] = [window.start, window.end]
    if window.location_id is not None:
        sql += " AND b.location_id = %s"
        params.append(window.location_id)
    return sql, params


def _tables() -> dict[str, str]:
    return {
        "bill": Bill._meta.db_table,
        "line": BillLine._meta.db_table,
        "tender": Tender._meta.db_table,
        "refund": Refund._meta.db_table,
        "refund_line": RefundLine._meta.db_table,
        "refund_tender": RefundTender._meta.db_table,
    }


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@dataclass
class _Totals:
    gross: int = 0
    refunds: int = 0
    bills: int = 0
    clients: int = 0
    walk_ins: int = 0


@dataclass
class SalesFigures:
    """What the sales report and the statement share: per-kind and per-item sales, the tender mix."""

    window: Window
    lines: list[tuple[str, int | None, int | None, int, int]]  # kind, service, product, amount, quantity
    refund_lines: list[tuple[str, int | None, int | None, int, int]]
    tenders: dict[str, int]
    refund_tenders: dict[str, int]

    def by_kind(self) -> list[KindFigure]:
        sold: dict[str, int] = defaultdict(int)
        refunded: dict[str, int] = defaultdict(int)
        for kind, _service, _product, amount, _quantity in self.lines:
            sold[kind] += amount
        for kind, _service, _product, amount, _quantity in self.refund_lines:
            refunded[kind] += amount
        return [
            KindFigure(
                kind=kind,
                label=str(label),
                sold=sold[kind],
                refunded=refunded[kind],
                net=sold[kind] - refunded[kind],
            )
            for kind, label in LineKind.choices
        ]

    def tender_mix(self) -> list[TenderFigure]:
        return [
            TenderFigure(
                method=method,
                label=str(label),
                taken=self.tenders.get(method, 0),
                refunded=self.refund_tenders.get(method, 0),
                net=self.tenders.get(method, 0) - self.refund_tenders.get(method, 0),
            )
            for method, label in TenderMethod.choices
            if self.tenders.get(method) or self.refund_tenders.get(method)
        ]

    def items(self, kind: str) -> list[ItemFigure]:
        """Every service (or product) sold or refunded in the period, unnamed (``name`` is filled by
        ``_named``)."""
        figures: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for rows, offset in ((self.lines, 0), (self.refund_lines, 2)):
            for line_kind, service_id, product_id, amount, quantity in rows:
                item_id = service_id if kind == LineKind.SERVICE else product_id
                if line_kind == kind and item_id is not None:
                    figures[item_id][offset] += quantity
                    figures[item_id][offset + 1] += amount
        return [
            ItemFigure(
                item_id=item_id,
                name="",
                quantity=sold_q - refunded_q,
                amount=sold_a - refunded_a,
                sold_quantity=sold_q,
                sold_amount=sold_a,
                refunded_quantity=refunded_q,
                refunded_amount=refunded_a,
            )
            for item_id, (sold_q, sold_a, refunded_q, refunded_a) in figures.items()
        ]


def sales_figures(window: Window) -> SalesFigures:
    """Lines and tenders of the bills sold in the window, less what was refunded in it (four statements).

    The lines and tenders are looked up by the ids of the bills sold (``= ANY(ARRAY(…))``), not joined:
    PostgreSQL then reads one month's rows from the covering indexes (``bill_line_report_idx``,
    ``tender_report_idx``), whereas for a join it estimates a scan of the whole table to be cheaper, which
    makes a month's report as slow as the salon's whole history is long."""
    t = _tables()
    bills_where, bills_params = scope_sql(window, refunds=False)
    refunds_where, refunds_params = scope_sql(window, refunds=True)
    sold_ids = f"ARRAY(SELECT b.id FROM {t['bill']} b WHERE {bills_where})"
    lines = _fetch(
        f"""SELECT l.kind, l.service_id, l.product_id, SUM(l.amount), SUM(l.quantity)
            FROM {t["line"]} l WHERE l.bill_id = ANY({sold_ids}) GROUP BY 1, 2, 3""",
        bills_params,
    )
    refund_lines = _fetch(
        f"""SELECT l.kind, l.service_id, l.product_id, SUM(rl.amount), SUM(rl.quantity)
            FROM {t["refund_line"]} rl JOIN {t["refund"]} r ON r.id = rl.refund_id
            JOIN {t["bill"]} b ON b.id = r.bill_id JOIN {t["line"]} l ON l.id = rl.bill_line_id
            WHERE {refunds_where} GROUP BY 1, 2, 3""",
        refunds_params,
    )
    tenders = _fetch(
        f"""SELECT tn.method, SUM(tn.amount) FROM {t["tender"]} tn
            WHERE tn.bill_id = ANY({sold_ids}) AND tn.status = 'succeeded' GROUP BY 1""",
        bills_params,
    )
    refund_tenders = _fetch(
        f"""SELECT tn.method, SUM(rt.amount) FROM {t["refund_tender"]} rt JOIN {t["refund"]} r ON r.id = rt.refund_id
            JOIN {t["bill"]} b ON b.id = r.bill_id JOIN {t["tender"]} tn ON tn.id = rt.tender_id
            WHERE rt.status = 'succeeded' AND {refunds_where} GROUP BY 1""",
        refunds_params,
    )
    return SalesFigures(
        window=window,
        lines=[(k, s, p, int(a), int(q)) for k, s, p, a, q in lines],
        refund_lines=[(k, s, p, int(a), int(q)) for k, s, p, a, q in refund_lines],
        tenders={method: int(amount) for method, amount in tenders},
        refund_tenders={method: int(amount) for method, amount in refund_tenders},
    )


def _named(items: list[ItemFigure], names: dict[int, str]) -> list[ItemFigure]:
    return [
        ItemFigure(**{**asdict(item), "name": names.get(item.item_id, "")})  # type: ignore[arg-type]
        for item in items
    ]


def _top(items: list[ItemFigure], *, by: str) -> list[ItemFigure]:
    if by == "amount":
        ranked = sorted(items, key=lambda i: (-i.amount, -i.quantity, i.item_id))
    else:
        ranked = sorted(items, key=lambda i: (-i.quantity, -i.amount, i.item_id))
    return [item for item in ranked if item.sold_quantity or item.refunded_quantity][:TOP_ITEMS]


def sales_report(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    period: Period = "day",
    location: Location | None = None,
    tz: zoneinfo.ZoneInfo | None = None,
) -> SalesReport:
    """The sales figures of a period at one location or all of them, with a row per day, week or month
    (definitions in the module's docstring). Nine statements at most."""
    if period not in PERIODS:
        raise pos_error(PosError.INVALID, field="period")
    window = report_window(date_from=date_from, date_to=date_to, location=location, tz=tz)
    t = _tables()
    zone = str(window.tz.key)
    bills_where, bills_params = scope_sql(window, refunds=False)
    refunds_where, refunds_params = scope_sql(window, refunds=True)

    # 1. Bills: per row, per location and in all, in one pass (GROUPING SETS). ``g`` tells the sets apart.
    bill_rows = _fetch(
        f"""SELECT GROUPING(bucket, location_id) AS g, bucket, location_id, SUM(total), COUNT(*),
                   COUNT(DISTINCT client_id), COUNT(*) FILTER (WHERE client_id IS NULL)
            FROM (SELECT DATE_TRUNC(%s, b.paid_at AT TIME ZONE %s)::date AS bucket, b.location_id, b.total,
                         b.client_id
                  FROM {t["bill"]} b WHERE {bills_where}) sold
            GROUP BY GROUPING SETS ((bucket), (location_id), ())""",
        [period, zone, *bills_params],
    )
    # 2. Refunds made in the period, the same way.
    refund_rows = _fetch(
        f"""SELECT GROUPING(bucket, location_id) AS g, bucket, location_id, SUM(amount)
            FROM (SELECT DATE_TRUNC(%s, r.created_at AT TIME ZONE %s)::date AS bucket, b.location_id, r.amount
                  FROM {t["refund"]} r JOIN {t["bill"]} b ON b.id = r.bill_id WHERE {refunds_where}) refunded
            GROUP BY GROUPING SETS ((bucket), (location_id), ())""",
        [period, zone, *refunds_params],
    )
    by_bucket: dict[datetime.date, _Totals] = defaultdict(_Totals)
    by_location: dict[int, _Totals] = defaultdict(_Totals)
    totals = _Totals()
    for g, bucket, location_id, gross, bills, clients, walk_ins in bill_rows:
        target = by_bucket[bucket] if g == 1 else by_location[location_id] if g == 2 else totals
        target.gross, target.bills = int(gross or 0), bills
        target.clients, target.walk_ins = clients + walk_ins, walk_ins
    for g, bucket, location_id, amount in refund_rows:
        target = by_bucket[bucket] if g == 1 else by_location[location_id] if g == 2 else totals
        target.refunds = int(amount or 0)

    # 3–6. Lines and tenders.
    figures = sales_figures(window)
    by_kind = figures.by_kind()
    refunded_on_lines = sum(k.refunded for k in by_kind)

    rows: list[SalesRow] = []
    start = _bucket_start(period, date_from)
    while start <= date_to:
        first, last = period_bounds(period, start)
        found = by_bucket.get(start, _Totals())
        revenue = found.gross - found.refunds
        rows.append(
            SalesRow(
                start=max(first, date_from),
                end=min(last, date_to),
                gross=found.gross,
                refunds=found.refunds,
                revenue=revenue,
                bills=found.bills,
                clients=found.clients,
                average_ticket=_average(revenue, found.bills),
            )
        )
        start = last + datetime.timedelta(days=1)

    # 7, 8. Names of the services and products in the top lists; 9. of the locations.
    services = figures.items(LineKind.SERVICE)
    products = figures.items(LineKind.PRODUCT)
    tops = {
        "services_amount": _top(services, by="amount"),
        "services_quantity": _top(services, by="quantity"),
        "products_amount": _top(products, by="amount"),
        "products_quantity": _top(products, by="quantity"),
    }
    service_ids = {i.item_id for key in ("services_amount", "services_quantity") for i in tops[key]}
    product_ids = {i.item_id for key in ("products_amount", "products_quantity") for i in tops[key]}
    service_names = dict(Service.objects.filter(pk__in=service_ids).values_list("id", "name")) if service_ids else {}
    product_names = dict(Product.objects.filter(pk__in=product_ids).values_list("id", "name")) if product_ids else {}

    locations: list[LocationFigure] = []
    if window.location_id is None and by_location:
        names = dict(Location.objects.filter(pk__in=list(by_location)).values_list("id", "name"))
        for location_id in sorted(by_location, key=lambda pk: (names.get(pk, ""), pk)):
            found = by_location[location_id]
            revenue = found.gross - found.refunds
            locations.append(
                LocationFigure(
                    location_id=location_id,
                    name=names.get(location_id, ""),
                    gross=found.gross,
                    refunds=found.refunds,
                    revenue=revenue,
                    bills=found.bills,
                    clients=found.clients,
                    average_ticket=_average(revenue, found.bills),
                )
            )

    revenue = totals.gross - totals.refunds
    top_up = next(k for k in by_kind if k.kind == LineKind.TOP_UP)
    return SalesReport(
        date_from=date_from,
        date_to=date_to,
        period=period,
        location_id=window.location_id,
        timezone=zone,
        gross=totals.gross,
        refunds=totals.refunds,
        revenue=revenue,
        bills=totals.bills,
        clients=totals.clients,
        walk_ins=totals.walk_ins,
        average_ticket=_average(revenue, totals.bills),
        top_ups=top_up.net,
        refunds_without_lines=totals.refunds - refunded_on_lines,
        rows=rows,
        by_kind=by_kind,
        top_services_by_revenue=_named(tops["services_amount"], service_names),
        top_services_by_quantity=_named(tops["services_quantity"], service_names),
        top_products_by_revenue=_named(tops["products_amount"], product_names),
        top_products_by_quantity=_named(tops["products_quantity"], product_names),
        tenders=figures.tender_mix(),
        locations=locations,
    )


# --- the spreadsheet ------------------------------------------------------------------------------

MONEY_FORMAT = "#,##0.00"


def yuan(fen: int | None) -> Decimal | None:
    """Fen as a yuan number for a spreadsheet cell (exact: a Decimal with two places)."""
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _append(sheet: Any, values: list[Any], *, money: tuple[int, ...] = ()) -> None:
    sheet.append([yuan(v) if i in money else v for i, v in enumerate(values)])
    for column in money:
        sheet.cell(row=sheet.max_row, column=column + 1).number_format = MONEY_FORMAT


def sales_report_workbook(report: SalesReport, *, location_name: str) -> bytes:
    """The report's tables as an XLSX workbook, one sheet per table; money in yuan as numbers with two
    decimals (so a spreadsheet can add them up), counts as whole numbers."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Summary")[:31]
    sheet.append([_("Period"), f"{report.date_from.isoformat()} – {report.date_to.isoformat()}"])
    sheet.append([_("Location"), location_name])
    sheet.append([_("Time zone"), report.timezone])
    _append(sheet, [_("Gross sales"), report.gross], money=(1,))
    _append(sheet, [_("Refunds"), report.refunds], money=(1,))
    _append(sheet, [pgettext("sales report", "Revenue"), report.revenue], money=(1,))
    _append(sheet, [_("of which stored-value top-ups"), report.top_ups], money=(1,))
    sheet.append([_("Bills"), report.bills])
    sheet.append([_("Clients"), report.clients])
    sheet.append([_("of which walk-ins"), report.walk_ins])
    _append(sheet, [_("Average ticket"), report.average_ticket], money=(1,))

    sheet = book.create_sheet({"day": _("By day"), "week": _("By week"), "month": _("By month")}[report.period][:31])
    sheet.append(
        [
            _("From"),
            _("To"),
            _("Gross sales"),
            _("Refunds"),
            pgettext("sales report", "Revenue"),
            _("Bills"),
            _("Clients"),
            _("Average ticket"),
        ]
    )
    for row in report.rows:
        _append(
            sheet,
            [row.start, row.end, row.gross, row.refunds, row.revenue, row.bills, row.clients, row.average_ticket],
            money=(2, 3, 4, 7),
        )
        for column in (1, 2):
            sheet.cell(row=sheet.max_row, column=column).number_format = "yyyy-mm-dd"

    sheet = book.create_sheet(_("By kind")[:31])
    sheet.append([_("Kind"), _("Sold"), _("Refunded"), _("Net")])
    for kind in report.by_kind:
        _append(sheet, [kind.label, kind.sold, kind.refunded, kind.net], money=(1, 2, 3))

    for title, items in (
        (_("Top services"), report.top_services_by_revenue),
        (_("Services by quantity"), report.top_services_by_quantity),
        (_("Top products"), report.top_products_by_revenue),
        (_("Products by quantity"), report.top_products_by_quantity),
    ):
        sheet = book.create_sheet(title[:31])
        sheet.append([_("Item"), _("Quantity"), _("Amount"), _("Refunded quantity"), _("Refunded amount")])
        for item in items:
            _append(
                sheet,
                [item.name, item.quantity, item.amount, item.refunded_quantity, item.refunded_amount],
                money=(2, 4),
            )

    sheet = book.create_sheet(_("Tenders")[:31])
    sheet.append([_("Tender"), _("Taken"), _("Refunded"), _("Net")])
    for tender in report.tenders:
        _append(sheet, [tender.label, tender.taken, tender.refunded, tender.net], money=(1, 2, 3))

    if report.locations:
        sheet = book.create_sheet(_("Locations")[:31])
        sheet.append(
            [
                _("Location"),
                _("Gross sales"),
                _("Refunds"),
                pgettext("sales report", "Revenue"),
                _("Bills"),
                _("Clients"),
                _("Average ticket"),
            ]
        )
        for place in report.locations:
            _append(
                sheet,
                [
                    place.name,
                    place.gross,
                    place.refunds,
                    place.revenue,
                    place.bills,
                    place.clients,
                    place.average_ticket,
                ],
                money=(1, 2, 3, 6),
            )

    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
