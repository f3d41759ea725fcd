"""Reads of loyalty shared by the pages and the API: a client's member account at a glance, and the
stored-value ledger. Topic modules (selectors_<topic>.py) hold the rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from apps.crm.models import Client
from apps.loyalty.models import (
    CardStatus,
    CourseCard,
    CourseCardStatus,
    MemberCard,
    TopUpRule,
    Wallet,
    WalletEntry,
)
from apps.loyalty.models.cards import CURRENT


@dataclass(frozen=True)
class AccountHeader:
    principal: int
    bonus: int
    points: int
    card: MemberCard | None

    @property
    def balance(self) -> int:
        return self.principal + self.bonus


def member_client(pk: int) -> Client:
    """The active client whose member account a page or an endpoint names (404 otherwise)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Client.objects.select_related("tier"), pk=pk, is_active=True)


def account_header(client: Client) -> AccountHeader:
    """Balances and the current card, without opening a wallet for a client who has none."""
    wallet = Wallet.objects.filter(client=client).only("principal", "bonus", "points").first()
    card = MemberCard.objects.filter(client=client, status__in=CURRENT).first()
    if wallet is None:
        return AccountHeader(principal=0, bonus=0, points=0, card=card)
    return AccountHeader(principal=wallet.principal, bonus=wallet.bonus, points=wallet.points, card=card)


def wallet_entries(client: Client) -> QuerySet[WalletEntry]:
    return WalletEntry.objects.filter(wallet__client=client).select_related("actor", "top_up_rule").order_by("-id")


def active_course_cards(client: Client) -> QuerySet[CourseCard]:
    return CourseCard.objects.filter(client=client, status=CourseCardStatus.ACTIVE).prefetch_related(
        "balances__service"
    )


def top_up_rules(*, include_inactive: bool = True) -> QuerySet[TopUpRule]:
    rules = TopUpRule.objects.all()
    return rules if include_inactive else rules.filter(is_active=True)


@dataclass(frozen=True)
class Liabilities:
    """What the salon owes its members: stored value not yet used (a liability on the books)."""

    wallets: int
    principal: int
    bonus: int
    points: int
    cards_blocked: int


def liabilities() -> Liabilities:
    totals: dict[str, Any] = Wallet.objects.aggregate(
        wallets=Count("id", filter=Q(principal__gt=0) | Q(bonus__gt=0)),
        principal=Sum("principal", default=0),
        bonus=Sum("bonus", default=0),
        points=Sum("points", default=0),
    )
    blocked = MemberCard.objects.filter(status__in=[CardStatus.LOST, CardStatus.FROZEN]).count()
    return Liabilities(cards_blocked=blocked, **totals)
