"""Reads of member cards (LOY-4) shared by the pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import ServiceError
from apps.crm.models import Client
from apps.loyalty.models import MemberCard


def client_cards(client: Client) -> QuerySet[MemberCard]:
    """Every card the client has held, newest first (the current one, then those replaced or cancelled)."""
    return MemberCard.objects.filter(client=client).select_related("replaced_by", "issued_by").order_by("-id")


def member_cards(*, number: str = "", status: str = "") -> QuerySet[MemberCard]:
    """Cards of the salon, optionally the one with ``number`` (as typed or swiped) or with a status."""
    from apps.loyalty.services.cards import card_number_normalise

    cards = MemberCard.objects.select_related("client").order_by("-id")
    if number.strip():
        try:
            cards = cards.filter(number=card_number_normalise(number))
        except ServiceError:
            return cards.none()
    if status:
        cards = cards.filter(status=status)
    return cards
