"""What loyalty adds to the client record (crm's registries, filled from LoyaltyConfig.ready): the
member-account section of the 360° page, the rows a merge moves, what a personal-data export holds, and
a tier evaluation after each recorded spend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from apps.crm.merge import MergeParticipant, merge_participant_register
from apps.crm.models import Client, PurchaseKind, PurchaseLine
from apps.crm.sections import ClientSection, client_section_register
from apps.crm.services.clients import purchase_hook_register
from apps.crm.services.privacy import PersonalDataHolder, personal_data_register
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import (
    Coupon,
    CourseCard,
    MemberCard,
    PointsEntry,
    ReferralReward,
    TierChange,
    Wallet,
    WalletEntry,
)
from apps.loyalty.models.cards import CURRENT


@dataclass(frozen=True)
class WalletMergeParticipant(MergeParticipant):
    """One wallet per client: the duplicate's wallet moves to a survivor that has none; an empty one stays
    behind; when both hold value the merge is refused (money is never added up silently)."""

    def move(self, *, source_id: int, target_id: int) -> list[int]:
        theirs = Wallet.objects.select_for_update().filter(client_id=source_id).first()
        if theirs is None:
            return []
        ours = Wallet.objects.select_for_update().filter(client_id=target_id).first()
        if ours is None:
            Wallet.objects.filter(pk=theirs.pk).update(client_id=target_id)
            return [theirs.pk]
        if theirs.principal or theirs.bonus or theirs.points:
            raise loyalty_error(LoyaltyError.MERGE_BOTH_WALLETS)
        return []


@dataclass(frozen=True)
class CardMergeParticipant(MergeParticipant):
    """Old cards follow the client; a current card only when the survivor holds none."""

    def move(self, *, source_id: int, target_id: int) -> list[int]:
        cards = MemberCard.objects.filter(client_id=source_id)
        if (
            cards.filter(status__in=CURRENT).exists()
            and MemberCard.objects.filter(client_id=target_id, status__in=CURRENT).exists()
        ):
            raise loyalty_error(LoyaltyError.MERGE_BOTH_CARDS)
        ids = sorted(cards.values_list("pk", flat=True))
        if ids:
            MemberCard.objects.filter(pk__in=ids).update(client_id=target_id)
        return ids


def _register_merge_participants() -> None:
    for participant in (
        WalletMergeParticipant("loyalty.wallet", Wallet),
        CardMergeParticipant("loyalty.member_card", MemberCard),
        MergeParticipant("loyalty.coupon", Coupon),
        MergeParticipant("loyalty.course_card", CourseCard),
        MergeParticipant("loyalty.tier_change", TierChange),
        MergeParticipant("loyalty.referral_reward", ReferralReward, field="referrer"),
    ):
        merge_participant_register(participant)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _export(client: Client) -> dict[str, Any]:
    def rows(queryset: Any, fields: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{k: _plain(v) for k, v in row.items()} for row in queryset.order_by("id").values(*fields)]

    wallet = Wallet.objects.filter(client=client).first()
    return {
        "stored_value": {"principal": wallet.principal, "bonus": wallet.bonus, "points": wallet.points}
        if wallet
        else None,
        "stored_value_ledger": rows(
            WalletEntry.objects.filter(wallet__client=client),
            ("created_at", "kind", "amount", "principal_delta", "bonus_delta", "reference", "note"),
        ),
        "points_ledger": rows(
            PointsEntry.objects.filter(wallet__client=client), ("created_at", "kind", "points", "description")
        ),
        "member_cards": rows(MemberCard.objects.filter(client=client), ("number", "card_type", "status", "issued_at")),
        "coupons": rows(
            Coupon.objects.filter(client=client), ("code", "template__name", "status", "valid_until", "redeemed_at")
        ),
        "course_cards": rows(CourseCard.objects.filter(client=client), ("name", "price", "sold_at", "expires_on")),
    }


def _section(request: HttpRequest, client: Client) -> dict[str, Any]:
    from apps.loyalty import selectors

    return {"account": selectors.account_header(client), "course_cards": list(selectors.active_course_cards(client))}


def _tier_on_spend(line: PurchaseLine) -> None:
    """A recorded spend may lift the client into a better tier (LOY-1); top-ups do not count."""
    from apps.loyalty.services.tiers import tier_on_spend

    if line.kind != PurchaseKind.TOP_UP:
        tier_on_spend(client=line.client)


def register() -> None:
    from django.contrib.auth.signals import user_logged_in

    from apps.loyalty.member_auth import member_session_drop_on_staff_login

    user_logged_in.connect(member_session_drop_on_staff_login, dispatch_uid="loyalty_member_session_drop")
    _register_merge_participants()
    purchase_hook_register(_tier_on_spend)
    # Stored value, points and their ledgers are financial records: an erasure keeps them (the client row
    # itself is de-identified by crm), so there is no erase callback.
    personal_data_register(PersonalDataHolder("loyalty", _export))
    client_section_register(
        ClientSection(
            "member_account",
            gettext_lazy("Member account"),
            "loyalty/section_member_account.html",
            _section,
            order=10,
            permission="take_payments",
        )
    )
