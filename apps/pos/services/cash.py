"""Writes of cash sessions (POS-5, 收银交班): open a location's drawer with a float, record pay-ins and
pay-outs, close it with the counted cash, and print the handover report.

Every write to a session locks its row first, so a pay-out, a close and a payment that needs an open
session (``cash_session_require_open``) never interleave: a pay-out cannot take more than the drawer
holds, and a session closes with every payment that was made while it was open.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.core.models import Location, User
from apps.core.money import MAX_AMOUNT, fen_to_yuan
from apps.core.services import audit_record
from apps.edge.models import PrintJob, PrintJobKind
from apps.edge.services import print_job_queue
from apps.pos.errors import PosError, pos_error
from apps.pos.models import (
    CashMovement,
    CashMovementKind,
    CashSession,
    CashSessionStatus,
    CashSessionTally,
    PosSettings,
    TenderMethod,
)
from apps.pos.receipt_terms import receipt_language, receipt_terms
from apps.pos.selectors.cash import HandoverReport, TenderFigures, cash_session_figures, handover_report
from apps.pos.selectors.receipts import pos_settings_read

MAX_NOTE = 200


def _amount(value: Any, *, field: str = "amount", allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (0 if allow_zero else 1) <= value <= MAX_AMOUNT:
        raise pos_error(PosError.AMOUNT_INVALID, field=field)
    return value


def _note(value: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_NOTE:
        raise pos_error(PosError.INVALID, field=field)
    return value


def _replay(obj: Any) -> Any:
    obj.is_replay = True
    return obj


def _locked_open(session: CashSession) -> CashSession:
    locked = CashSession.objects.select_for_update().select_related("location").get(pk=session.pk)
    if locked.status != CashSessionStatus.OPEN:
        raise pos_error(PosError.CASH_SESSION_CLOSED)
    return locked


@transaction.atomic
def cash_session_open(
    *,
    location: Location,
    opening_float: int,
    acting_user: User,
    note: str = "",
    idempotency_key: str | None = None,
) -> CashSession:
    """Open ``location``'s drawer with ``opening_float`` fen in it. One session is open per location: a
    second one is refused with 409 (the database's partial unique index decides between two tills opening
    at the same moment)."""
    if idempotency_key:
        found = CashSession.objects.filter(idempotency_key=idempotency_key).first()
        if found is not None:
            return _replay(found)
    if not location.is_active:
        raise pos_error(PosError.INACTIVE_LOCATION)
    opening_float = _amount(opening_float, field="opening_float", allow_zero=True)
    note = _note(note, "note")
    try:
        with transaction.atomic():
            session = CashSession.objects.create(
                location=location,
                opening_float=opening_float,
                opened_by=acting_user,
                opening_note=note,
                idempotency_key=idempotency_key or None,
            )
    except IntegrityError as exc:
        if "cash_session_one_open_per_location" in str(exc):
            current = CashSession.objects.filter(location=location, status=CashSessionStatus.OPEN).first()
            raise pos_error(
                PosError.CASH_SESSION_ALREADY_OPEN, extra={"session": current.pk if current is not None else None}
            )
        found = CashSession.objects.filter(idempotency_key=idempotency_key).first() if idempotency_key else None
        if found is None:
            raise
        return _replay(found)
    audit_record(
        action="pos.cash_session_open",
        actor=acting_user,
        target=session,
        data={"location": location.pk, "opening_float": opening_float},
    )
    return session


@transaction.atomic
def cash_movement_record(
    *,
    session: CashSession,
    kind: str,
    amount: int,
    reason: str,
    acting_user: User,
    idempotency_key: str | None = None,
) -> CashMovement:
    """Record cash put into (``pay_in``) or taken out of (``pay_out``) an open session's drawer, with the
    reason. A pay-out cannot exceed the cash the drawer should hold at that moment."""
    if kind not in CashMovementKind.values:
        raise pos_error(PosError.INVALID, field="kind")
    if idempotency_key:
        found = CashMovement.objects.filter(idempotency_key=idempotency_key).first()
        if found is not None:
            return _replay(found)
    amount = _amount(amount)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_NOTE:
        raise pos_error(PosError.CASH_REASON_REQUIRED)
    locked = _locked_open(session)
    if kind == CashMovementKind.PAY_OUT and amount > cash_session_figures(locked).expected_cash:
        raise pos_error(PosError.PAY_OUT_EXCEEDS_CASH)
    movement = CashMovement.objects.create(
        session=locked,
        kind=kind,
        amount=amount,
        reason=reason,
        created_by=acting_user,
        idempotency_key=idempotency_key or None,
    )
    audit_record(
        action=f"pos.cash_{kind}",
        actor=acting_user,
        target=movement,
        data={"session": locked.pk, "amount": amount, "reason": reason},
    )
    return movement


def _counted(counted: Mapping[str, Any] | None) -> dict[str, int]:
    result: dict[str, int] = {}
    for method, value in (counted or {}).items():
        if method not in TenderMethod.values or method == TenderMethod.CASH:
            raise pos_error(PosError.UNKNOWN_TENDER_METHOD, field="counted")
        result[method] = _amount(value, field="counted", allow_zero=True)
    return result


def _tally(session: CashSession, figures: TenderFigures, counted: int | None) -> CashSessionTally:
    return CashSessionTally(
        session=session,
        method=figures.method,
        count=figures.count,
        taken=figures.taken,
        refunded=figures.refunded,
        expected=figures.expected,
        counted=counted,
        difference=None if counted is None else counted - figures.expected,
    )


@transaction.atomic
def cash_session_close(
    *,
    session: CashSession,
    counted_cash: int,
    acting_user: User,
    counted: Mapping[str, Any] | None = None,
    note: str = "",
) -> CashSession:
    """Close an open session with the cash counted in the drawer (and, optionally, what the other tenders'
    statements say, e.g. ``{"wechat": 12800}``). Keeps, per tender, what was taken, refunded, expected and
    counted, and the cash difference (counted − expected); queues the handover report for the printer."""
    counted_cash = _amount(counted_cash, field="counted_cash", allow_zero=True)
    counted_other = _counted(counted)
    note = _note(note, "note")
    locked = _locked_open(session)
    now = timezone.now()
    figures = cash_session_figures(locked, until=now)
    expected = figures.expected_cash
    tallies = [_tally(locked, figures.cash, counted_cash)]
    seen = {figures.cash.method}
    for other in figures.others:
        tallies.append(_tally(locked, other, counted_other.get(other.method)))
        seen.add(other.method)
    for method, value in counted_other.items():  # counted for a tender that took nothing this session
        if method not in seen:
            tallies.append(_tally(locked, TenderFigures(method=method), value))
    CashSession.objects.filter(pk=locked.pk).update(
        status=CashSessionStatus.CLOSED,
        closed_at=now,
        closed_by=acting_user,
        expected_cash=expected,
        counted_cash=counted_cash,
        cash_difference=counted_cash - expected,
        closing_note=note,
    )
    CashSessionTally.objects.bulk_create(tallies)
    closed = CashSession.objects.select_related("location", "opened_by", "closed_by").get(pk=locked.pk)
    audit_record(
        action="pos.cash_session_close",
        actor=acting_user,
        target=closed,
        data={
            "expected_cash": expected,
            "counted_cash": counted_cash,
            "difference": counted_cash - expected,
            "counted": counted_other,
        },
    )
    if closed.location.is_active:
        cash_session_print(session=closed, acting_user=acting_user)
    return closed


def cash_session_require_open(*, location: Location) -> CashSession | None:
    """For the payment flow: call inside the payment's transaction before writing a cash tender at
    ``location``. Returns the open session there, holding a KEY SHARE lock on it until the payment commits
    (payments do not wait for each other, but a closing waits for them, so the handover counts every one
    of them); when the salon takes cash only in an open session (``PosSettings.cash_session_required``) and
    none is open, refuses with 409 ``cash_session_required``. One statement reads (and locks) the session
    and reads the setting: this is on the checkout's hot path."""
    sessions = connection.ops.quote_name(CashSession._meta.db_table)
    settings_table = connection.ops.quote_name(PosSettings._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT s.id, p.cash_session_required
                  FROM {settings_table} p
                  LEFT JOIN LATERAL (
                      SELECT id FROM {sessions} WHERE location_id = %s AND status = %s FOR KEY SHARE
                  ) s ON true
                 WHERE p.id = 1""",
            [location.pk, CashSessionStatus.OPEN],
        )
        row = cursor.fetchone()
    if row is None:  # no settings row yet: read (and create) it, then ask again
        pos_settings_read()
        return cash_session_require_open(location=location)
    session_id, required = row
    if session_id is None:
        if required:
            raise pos_error(PosError.CASH_SESSION_REQUIRED)
        return None
    return CashSession.objects.get(pk=session_id)


# --- the handover report on paper ------------------------------------------------------------------


def _yuan(fen: int) -> str:
    return ("-¥" if fen < 0 else "¥") + fen_to_yuan(abs(fen))


def _signed(fen: int) -> str:
    return ("+" if fen > 0 else "") + _yuan(fen)


def handover_payload(report: HandoverReport, *, language: str | None = None, width: int = 80) -> dict[str, Any]:
    """The handover report as structured print lines (see ``apps.edge.rendering``)."""
    from apps.core.db import salon_name

    t = receipt_terms(receipt_language(language))
    colon = t["colon"]
    session, figures = report.session, report.figures
    lines: list[dict[str, Any]] = [
        {
            "type": "text",
            "text": salon_name() or session.location.name,
            "align": "center",
            "bold": True,
            "size": "double",
        },
        {"type": "text", "text": t["handover_report"], "align": "center", "bold": True},
        {"type": "rule", "char": "="},
        {"type": "text", "text": f"{t['location']}{colon}{session.location.name}"},
        {"type": "text", "text": f"{t['cashier']}{colon}{session.opened_by.name}"},
        {"type": "text", "text": f"{t['opened']}{colon}{report.local(session.opened_at)}"},
        {
            "type": "text",
            "text": f"{t['closed']}{colon}"
            + (report.local(session.closed_at) if report.is_closed else t["still_open"]),
        },
    ]
    if session.closed_by is not None:
        lines.append({"type": "text", "text": f"{t['closed_by']}{colon}{session.closed_by.name}"})
    cash = figures.cash
    lines += [
        {"type": "rule", "char": "-"},
        {"type": "pair", "left": t["float"], "right": _yuan(figures.opening_float)},
        {
            "type": "pair",
            "left": f"{t['cash_sales']} ({t['payments'] % {'count': cash.count}})",
            "right": _yuan(cash.taken),
        },
        {"type": "pair", "left": t["cash_refunds"], "right": _yuan(-cash.refunded)},
        {"type": "pair", "left": t["pay_ins"], "right": _yuan(figures.pay_ins)},
        {"type": "pair", "left": t["pay_outs"], "right": _yuan(-figures.pay_outs)},
        {"type": "pair", "left": t["expected_cash"], "right": _yuan(report.expected_cash), "bold": True},
    ]
    if report.is_closed and session.counted_cash is not None and session.cash_difference is not None:
        lines += [
            {"type": "pair", "left": t["counted_cash"], "right": _yuan(session.counted_cash)},
            {"type": "pair", "left": t["difference"], "right": _signed(session.cash_difference), "bold": True},
        ]
    lines += [{"type": "rule", "char": "-"}, {"type": "text", "text": t["by_tender"], "bold": True}]
    for tender in [cash, *figures.others]:
        label = f"{t.get(tender.method, tender.method)} ({t['payments'] % {'count': tender.count}})"
        lines.append({"type": "pair", "left": label, "right": _yuan(tender.taken - tender.refunded)})
        if tender.method != TenderMethod.CASH and tender.counted is not None and tender.difference is not None:
            lines.append({"type": "pair", "left": f"  {t['counted']}", "right": _yuan(tender.counted)})
            lines.append({"type": "pair", "left": f"  {t['difference']}", "right": _signed(tender.difference)})
    lines += [
        {"type": "pair", "left": t["takings"], "right": _yuan(figures.takings), "bold": True},
        {"type": "pair", "left": t["bills"], "right": str(figures.bills_count)},
    ]
    if report.movements:
        lines += [{"type": "rule", "char": "-"}, {"type": "text", "text": t["movements"], "bold": True}]
        for movement in report.movements:
            word = t["pay_ins"] if movement.kind == CashMovementKind.PAY_IN else t["pay_outs"]
            when = report.local(movement.created_at)[-5:]
            lines.append(
                {"type": "pair", "left": f"{when} {word} {movement.reason}", "right": _signed(movement.signed_amount)}
            )
    lines += [
        {"type": "rule", "char": "="},
        {"type": "feed", "lines": 1},
        {"type": "text", "text": f"{t['cashier']}{t['signature']}{colon}"},
        {"type": "feed", "lines": 3},
        {"type": "cut"},
    ]
    return {"width": width, "lines": lines, "copy_title": t["copy"]}


def cash_session_print(
    *,
    session: CashSession,
    acting_user: User | None,
    copy: bool = False,
    idempotency_key: str | None = None,
    printer: str = "",
) -> PrintJob:
    """Queue the session's handover report for its location's printer: the closed session's report once
    (``copy=True`` for another); while the session is open, an interim report of the figures so far each
    time it is asked."""
    report = handover_report(session)
    reference = f"cash_session:{session.pk}"
    if not report.is_closed:
        reference += f":interim:{timezone.now():%Y%m%d%H%M%S%f}"
    return print_job_queue(
        kind=PrintJobKind.HANDOVER_REPORT,
        location=session.location,
        payload=handover_payload(report, width=pos_settings_read().receipt_width),
        reference=reference,
        copy=copy,
        idempotency_key=idempotency_key,
        printer=printer,
        acting_user=acting_user,
    )
