"""Reads of cash sessions (POS-5): what a session's drawer and tenders took, live while it is open and as
counted at the handover, and the handover report.

A session covers the payments and refunds made at its location from its opening up to (not including)
its closing: a tender counts when it succeeded (``settled_at``), a refund to a tender when it was made.
Only one session is open per location at a time, so the windows of one location never overlap.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.core.db import salon_timezone
from apps.core.models import Location, User
from apps.core.roles import perm
from apps.pos.models import (
    Bill,
    CashMovement,
    CashMovementKind,
    CashSession,
    CashSessionStatus,
    RefundStatus,
    RefundTender,
    Tender,
    TenderMethod,
    TenderStatus,
)

METHOD_ORDER = list(TenderMethod.values)


@dataclass(frozen=True)
class TenderFigures:
    """One tender's part of a session: payments taken, refunds given back to it, and — for cash with the
    float and the movements — what should be there; ``counted`` and ``difference`` once counted."""

    method: str
    count: int = 0
    taken: int = 0
    refunded: int = 0
    expected: int = 0
    counted: int | None = None
    difference: int | None = None

    @property
    def label(self) -> str:
        return str(TenderMethod(self.method).label)


@dataclass(frozen=True)
class SessionFigures:
    opening_float: int
    cash: TenderFigures
    others: list[TenderFigures]
    pay_ins: int
    pay_outs: int
    bills_count: int
    bills_total: int

    @property
    def expected_cash(self) -> int:
        """float + cash taken − cash refunded + pay-ins − pay-outs."""
        return self.opening_float + self.cash.taken - self.cash.refunded + self.pay_ins - self.pay_outs

    @property
    def takings(self) -> int:
        """Everything the tenders took, less what went back to them."""
        return sum(t.taken - t.refunded for t in [self.cash, *self.others])


def _window(session: CashSession, until: datetime.datetime | None) -> tuple[datetime.datetime, datetime.datetime]:
    return session.opened_at, until or session.closed_at or timezone.now()


def cash_session_figures(session: CashSession, *, until: datetime.datetime | None = None) -> SessionFigures:
    """A session's figures from the payments, refunds and movements themselves (four queries): up to now
    while it is open, up to ``until`` when given."""
    start, end = _window(session, until)
    taken = {
        row["method"]: row
        for row in Tender.objects.filter(status=TenderStatus.SUCCEEDED, bill__location_id=session.location_id)
        .annotate(at=Coalesce("settled_at", "created_at"))
        .filter(at__gte=start, at__lt=end)
        .values("method")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by()
    }
    refunded = {
        row["tender__method"]: int(row["total"])
        for row in RefundTender.objects.filter(
            status=RefundStatus.SUCCEEDED,
            tender__bill__location_id=session.location_id,
            refund__created_at__gte=start,
            refund__created_at__lt=end,
        )
        .values("tender__method")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    moved = {
        row["kind"]: int(row["total"])
        for row in CashMovement.objects.filter(session=session).values("kind").annotate(total=Sum("amount")).order_by()
    }
    bills = Bill.objects.filter(location_id=session.location_id, paid_at__gte=start, paid_at__lt=end).aggregate(
        count=Count("id"), total=Coalesce(Sum("total"), 0)
    )

    def figures(method: str) -> TenderFigures:
        row = taken.get(method) or {"count": 0, "total": 0}
        back = refunded.get(method, 0)
        return TenderFigures(
            method=method,
            count=int(row["count"]),
            taken=int(row["total"] or 0),
            refunded=back,
            expected=int(row["total"] or 0) - back,
        )

    cash = figures(TenderMethod.CASH)
    pay_ins, pay_outs = moved.get(CashMovementKind.PAY_IN, 0), moved.get(CashMovementKind.PAY_OUT, 0)
    cash = TenderFigures(
        method=cash.method,
        count=cash.count,
        taken=cash.taken,
        refunded=cash.refunded,
        expected=session.opening_float + cash.taken - cash.refunded + pay_ins - pay_outs,
    )
    others = [figures(m) for m in METHOD_ORDER if m != TenderMethod.CASH and (m in taken or m in refunded)]
    return SessionFigures(
        opening_float=session.opening_float,
        cash=cash,
        others=others,
        pay_ins=pay_ins,
        pay_outs=pay_outs,
        bills_count=int(bills["count"]),
        bills_total=int(bills["total"]),
    )


@dataclass(frozen=True)
class HandoverReport:
    """A session's handover report: live figures while it is open, the counts kept at closing after."""

    session: CashSession
    figures: SessionFigures
    movements: list[CashMovement] = field(default_factory=list)

    @property
    def is_closed(self) -> bool:
        return self.session.status == CashSessionStatus.CLOSED

    @property
    def expected_cash(self) -> int:
        if self.session.expected_cash is not None:
            return self.session.expected_cash
        return self.figures.expected_cash

    def local(self, moment: datetime.datetime | None) -> str:
        return moment.astimezone(salon_timezone()).strftime("%Y-%m-%d %H:%M") if moment else ""


def handover_report(session: CashSession) -> HandoverReport:
    """The handover report of ``session``. A closed session shows what was kept at closing (the expected and
    counted figures per tender), so a refund made later at the location does not change a past handover."""
    movements = list(CashMovement.objects.filter(session=session).select_related("created_by").order_by("id"))
    live = cash_session_figures(session)
    if session.status != CashSessionStatus.CLOSED:
        return HandoverReport(session=session, figures=live, movements=movements)
    kept = {t.method: t for t in session.tallies.all()}

    def from_tally(method: str) -> TenderFigures:
        t = kept[method]
        return TenderFigures(
            method=method,
            count=t.count,
            taken=t.taken,
            refunded=t.refunded,
            expected=t.expected,
            counted=t.counted,
            difference=t.difference,
        )

    cash = from_tally(TenderMethod.CASH) if TenderMethod.CASH in kept else live.cash
    others = [from_tally(m) for m in METHOD_ORDER if m != TenderMethod.CASH and m in kept]
    figures = SessionFigures(
        opening_float=session.opening_float,
        cash=cash,
        others=others,
        pay_ins=live.pay_ins,
        pay_outs=live.pay_outs,
        bills_count=live.bills_count,
        bills_total=live.bills_total,
    )
    return HandoverReport(session=session, figures=figures, movements=movements)


def cash_session(pk: int) -> CashSession | None:
    return (
        CashSession.objects.select_related("location", "opened_by", "closed_by")
        .prefetch_related("tallies")
        .filter(pk=pk)
        .first()
    )


def cash_session_open_at(location: Location) -> CashSession | None:
    return (
        CashSession.objects.select_related("location", "opened_by")
        .filter(location=location, status=CashSessionStatus.OPEN)
        .first()
    )


def cash_sessions(
    *, location: Location | None = None, status: str = "", user: User | None = None
) -> QuerySet[CashSession]:
    """Sessions newest first. ``user``: only those this person may see (all with ``view_reports``, else
    the ones they opened)."""
    sessions = CashSession.objects.select_related("location", "opened_by", "closed_by")
    if location is not None:
        sessions = sessions.filter(location=location)
    if status:
        sessions = sessions.filter(status=status)
    if user is not None and not user.has_perm(perm("view_reports")):
        sessions = sessions.filter(Q(opened_by=user))
    return sessions.order_by("-opened_at", "-id")


def cash_session_visible_to(session: CashSession, user: User) -> bool:
    """The handover report is for those who read reports, and for the cashier whose session it is."""
    return bool(user.has_perm(perm("view_reports"))) or session.opened_by_id == user.pk
