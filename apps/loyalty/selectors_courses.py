"""Reads of course cards (LOY-5): a client's cards with sessions left per service, one card with its
redemption history, and every card sold, filtered for the staff list."""

from __future__ import annotations

import datetime

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from apps.catalog.models import CourseCardTemplate
from apps.core.db import salon_today
from apps.crm.models import Client
from apps.loyalty.models import CourseCard, CourseCardStatus, CourseRedemption

EXPIRING_DAYS = 30

_ACTIVE_FIRST = Case(When(status=CourseCardStatus.ACTIVE, then=Value(0)), default=Value(1), output_field=IntegerField())


def _cards() -> QuerySet[CourseCard]:
    return CourseCard.objects.select_related("client").prefetch_related("balances__service")


def course_cards_of(client: Client) -> QuerySet[CourseCard]:
    """The client's cards: active ones first, then the newest."""
    return _cards().filter(client=client).order_by(_ACTIVE_FIRST, "-id")


def course_card(pk: int) -> CourseCard:
    return _cards().get(pk=pk)


def redemptions() -> QuerySet[CourseRedemption]:
    return CourseRedemption.objects.select_related("balance__service", "staff", "actor", "reversal").order_by("-id")


def course_card_with_history() -> QuerySet[CourseCard]:
    return _cards().prefetch_related(Prefetch("redemptions", queryset=redemptions()))


def client_redemptions(client: Client) -> QuerySet[CourseRedemption]:
    return redemptions().filter(card__client=client).select_related("card")


def expiring_before() -> datetime.date:
    return salon_today() + datetime.timedelta(days=EXPIRING_DAYS)


COURSE_CARD_FILTERS = ("active", "expiring", "used_up", "voided", "expired")


def course_card_list(*, show: str = "") -> QuerySet[CourseCard]:
    """Every card sold, newest first. ``show``: active (usable today), expiring (active and expiring in the
    next 30 days), used_up, voided, expired (active but past its date); anything else: all."""
    cards = _cards().order_by("-id")
    today = salon_today()
    if show == "active":
        return cards.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today), status=CourseCardStatus.ACTIVE)
    if show == "expiring":
        return cards.filter(
            status=CourseCardStatus.ACTIVE, expires_on__gte=today, expires_on__lte=expiring_before()
        ).order_by("expires_on", "id")
    if show == "used_up":
        return cards.filter(status=CourseCardStatus.USED_UP)
    if show == "voided":
        return cards.filter(status=CourseCardStatus.VOIDED)
    if show == "expired":
        return cards.filter(status=CourseCardStatus.ACTIVE, expires_on__lt=today)
    return cards


def templates_on_sale() -> QuerySet[CourseCardTemplate]:
    return CourseCardTemplate.objects.filter(is_active=True, items__isnull=False).distinct().order_by("name", "id")
