"""Course cards a client holds (LOY-5): sold from the catalogue's templates, one session redeemed at a
time, sessions given back, cards voided or extended.

A redemption locks the card row and then the service's balance row (always in that order, so two
redemptions of one card never deadlock), checks, writes one CourseRedemption with the sessions left
after it and decrements the balance. An idempotency key names each sale and each session: replaying
it returns the first result and changes nothing."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import CourseCardTemplate, Package, Service
from apps.core.db import salon_today
from apps.core.models import Location, User
from apps.core.services import audit_record
from apps.crm.models import Client
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import CourseCard, CourseCardBalance, CourseCardStatus, CourseRedemption
from apps.loyalty.services import _common as check
from apps.loyalty.services._common import Verification, redemption_authorise

# --- sale ----------------------------------------------------------------------------------------


def _sold_with(
    key: str, *, client: Client, template: CourseCardTemplate | None = None, package: Package | None = None
) -> CourseCard | None:
    card = CourseCard.objects.filter(idempotency_key=key).first()
    if card is not None and (
        card.client_id != client.pk
        or card.template_id != (template.pk if template is not None else None)
        or card.package_id != (package.pk if package is not None else None)
    ):
        raise loyalty_error(LoyaltyError.KEY_REUSED)
    return card


@transaction.atomic
def course_card_sell(
    *,
    client: Client,
    template: CourseCardTemplate,
    idempotency_key: str,
    reference: str = "",
    price: int | None = None,
    acting_user: User | None = None,
) -> CourseCard:
    """Give the client a course card made from an active template: its name, one balance per service
    of the template and an expiry ``validity_days`` after today. The till sells the card (a bill line)
    and calls this once the bill is paid; ``price`` is what was paid (the template's price by default)."""
    check.require_permission(acting_user, "take_payments")
    key = check.key(idempotency_key)
    replay = _sold_with(key, client=client, template=template)
    if replay is not None:
        return replay
    check.active_client(client)
    template = CourseCardTemplate.objects.get(pk=template.pk)
    if not template.is_active:
        raise loyalty_error(LoyaltyError.TEMPLATE_INACTIVE)
    items = list(template.items.order_by("id"))
    if not items:
        raise loyalty_error(LoyaltyError.TEMPLATE_EMPTY)
    paid = check.amount_or_zero(template.price if price is None else price, field="price")
    card = CourseCard(
        client=client,
        template=template,
        name=template.name,
        price=paid,
        expires_on=salon_today() + datetime.timedelta(days=template.validity_days),
        reference=check.text(reference, field="reference", model=CourseCard),
        idempotency_key=key,
        sold_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    return _issued(card, [(item.service_id, item.sessions) for item in items])


def _issued(card: CourseCard, sessions: list[tuple[int, int]]) -> CourseCard:
    """The new card written with one balance per (service, sessions); when a concurrent sale with the same
    key committed first, that card (the sale is the same one)."""
    try:
        with transaction.atomic():
            card.save()
    except IntegrityError:
        winner = _sold_with(card.idempotency_key, client=card.client, template=card.template, package=card.package)
        if winner is None:
            raise
        return winner
    CourseCardBalance.objects.bulk_create(
        [
            CourseCardBalance(card=card, service_id=service_id, sessions_total=count, sessions_left=count)
            for service_id, count in sessions
        ]
    )
    return card


@transaction.atomic
def package_card_sell(
    *,
    client: Client,
    package: Package,
    quantity: int = 1,
    idempotency_key: str,
    reference: str = "",
    price: int | None = None,
    acting_user: User | None = None,
) -> CourseCard | None:
    """Give the client a package card for ``quantity`` of a package paid at the till (CAT-3): named after
    the package, one balance per service of the package (its sessions × ``quantity``) and an expiry
    ``validity_days`` after today, or none when the package never expires. A package without services
    gives no card (None). ``price`` is what was paid for the line. Replaying the key returns the first card."""
    check.require_permission(acting_user, "take_payments")
    key = check.key(idempotency_key)
    replay = _sold_with(key, client=client, package=package)
    if replay is not None:
        return replay
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise loyalty_error(
            LoyaltyError.INVALID_AMOUNT, field="quantity", message=_("The number of packages must be at least 1.")
        )
    check.active_client(client)
    package = Package.objects.get(pk=package.pk)
    sessions = [
        (item.service_id, item.quantity * quantity)
        for item in package.items.order_by("id")
        if item.service_id is not None
    ]
    if not sessions:
        return None
    paid = check.amount_or_zero(package.price * quantity if price is None else price, field="price")
    days = package.validity_days
    card = CourseCard(
        client=client,
        package=package,
        name=package.name,
        price=paid,
        expires_on=salon_today() + datetime.timedelta(days=days) if days is not None else None,
        reference=check.text(reference, field="reference", model=CourseCard),
        idempotency_key=key,
        sold_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    return _issued(card, sessions)


# --- sessions ------------------------------------------------------------------------------------


def _locked_card(card_id: int) -> CourseCard:
    return CourseCard.objects.select_for_update(of=("self",)).select_related("client").get(pk=card_id)


def _replayed(
    key: str, *, card: CourseCard, sessions: int, reverses: CourseRedemption | None = None
) -> CourseRedemption | None:
    """The redemption an earlier call with ``key`` wrote, if any; the same key for another operation is refused."""
    earlier = CourseRedemption.objects.filter(idempotency_key=key).first()
    if earlier is None:
        return None
    if (
        earlier.card_id != card.pk
        or earlier.sessions != sessions
        or (reverses is not None and earlier.reverses_id != reverses.pk)
    ):
        raise loyalty_error(LoyaltyError.KEY_REUSED)
    return earlier


@transaction.atomic
def course_session_redeem(
    *,
    card: CourseCard,
    service: Service,
    idempotency_key: str,
    reference: str = "",
    staff: User | None = None,
    location: Location | None = None,
    acting_user: User | None = None,
    verification: Verification | None = None,
) -> CourseRedemption:
    """Use one session of ``service`` from the card: refused, with nothing written, when the card is
    expired, used up or voided, the service is not on it or none of its sessions is left, or the
    salon's redemption code is missing. The card is used up when its last session goes."""
    key = check.key(idempotency_key)
    card = _locked_card(card.pk)
    replay = _replayed(key, card=card, sessions=1)
    if replay is not None:
        if replay.balance.service_id != service.pk:
            raise loyalty_error(LoyaltyError.KEY_REUSED)
        return replay
    if card.status != CourseCardStatus.ACTIVE:
        raise loyalty_error(LoyaltyError.COURSE_CARD_NOT_ACTIVE)
    if card.is_expired_on(salon_today()):
        raise loyalty_error(LoyaltyError.COURSE_CARD_EXPIRED)
    check.active_client(card.client)
    balance = CourseCardBalance.objects.select_for_update().filter(card=card, service=service).first()
    if balance is None:
        raise loyalty_error(LoyaltyError.COURSE_SERVICE_NOT_ON_CARD)
    if balance.sessions_left < 1:
        raise loyalty_error(LoyaltyError.NO_SESSIONS_LEFT)
    reference = check.text(reference, field="reference", model=CourseRedemption)
    redemption_authorise(
        client=card.client,
        verification=verification,
        acting_user=acting_user,
        what="course_session",
        reference=reference,
    )
    # The card's lock is held, so the plain value is right: nobody else changes this balance meanwhile.
    balance.sessions_left -= 1
    balance.save(update_fields=["sessions_left"])
    redemption = CourseRedemption.objects.create(
        card=card,
        balance=balance,
        sessions=1,
        sessions_left_after=balance.sessions_left,
        staff=staff,
        location=location,
        reference=reference,
        idempotency_key=key,
        actor=acting_user if acting_user is not None and acting_user.pk else None,
    )
    if not CourseCardBalance.objects.filter(card=card, sessions_left__gt=0).exists():
        card.status = CourseCardStatus.USED_UP
        card.save(update_fields=["status"])
    return redemption


@transaction.atomic
def course_session_reverse(
    *, redemption: CourseRedemption, idempotency_key: str, acting_user: User | None, reference: str = ""
) -> CourseRedemption:
    """Give a used session back to the card once (a refunded bill line, a session recorded by mistake):
    ``issue_refunds``. A used-up card becomes active again; a voided card takes nothing back."""
    check.require_permission(acting_user, "issue_refunds")
    key = check.key(idempotency_key)
    if redemption.sessions != 1:
        raise loyalty_error(LoyaltyError.NOT_A_SESSION_USED)
    card = _locked_card(redemption.card_id)
    replay = _replayed(key, card=card, sessions=-1, reverses=redemption)
    if replay is not None:
        return replay
    if CourseRedemption.objects.filter(reverses=redemption).exists():
        raise loyalty_error(LoyaltyError.ALREADY_REVERSED)
    if card.status == CourseCardStatus.VOIDED:
        raise loyalty_error(LoyaltyError.COURSE_CARD_NOT_ACTIVE)
    balance = CourseCardBalance.objects.select_for_update().get(pk=redemption.balance_id)
    balance.sessions_left += 1
    balance.save(update_fields=["sessions_left"])
    reversal = CourseRedemption.objects.create(
        card=card,
        balance=balance,
        sessions=-1,
        sessions_left_after=balance.sessions_left,
        reference=check.text(reference, field="reference", model=CourseRedemption),
        idempotency_key=key,
        reverses=redemption,
        actor=acting_user if acting_user is not None and acting_user.pk else None,
    )
    if card.status == CourseCardStatus.USED_UP:
        card.status = CourseCardStatus.ACTIVE
        card.save(update_fields=["status"])
    return reversal


# --- by hand -------------------------------------------------------------------------------------


MAX_REASON_LENGTH = 200


def _required_reason(reason: str) -> str:
    reason = "" if reason is None else str(reason).strip()
    if not reason:
        raise loyalty_error(LoyaltyError.REASON_REQUIRED)
    if len(reason) > MAX_REASON_LENGTH or "\x00" in reason:
        raise loyalty_error(LoyaltyError.TEXT_TOO_LONG, field="reason")
    return reason


@transaction.atomic
def course_card_void(*, card: CourseCard, reason: str, acting_user: User | None) -> CourseCard:
    """Cancel the card (refunded at the till, sold by mistake): no session can be used from it any more.
    ``issue_refunds``; audited."""
    check.require_permission(acting_user, "issue_refunds")
    reason = _required_reason(reason)
    card = _locked_card(card.pk)
    if card.status == CourseCardStatus.VOIDED:
        raise loyalty_error(LoyaltyError.COURSE_CARD_VOIDED)
    was = card.status
    card.status = CourseCardStatus.VOIDED
    card.save(update_fields=["status"])
    left = {b.service_id: b.sessions_left for b in card.balances.all()}
    audit_record(
        action="loyalty.course_card_voided",
        actor=acting_user,
        target=card,
        data={"client": card.client_id, "was": was, "sessions_left": left, "reason": reason},
    )
    return card


@transaction.atomic
def course_card_extend(
    *, card: CourseCard, expires_on: datetime.date, reason: str, acting_user: User | None
) -> CourseCard:
    """Move the card's expiry to a later date (``adjust_balances``; audited). The new date must be after
    the current one and not in the past; a card that never expires has nothing to extend."""
    check.require_permission(acting_user, "adjust_balances")
    reason = _required_reason(reason)
    if not isinstance(expires_on, datetime.date) or isinstance(expires_on, datetime.datetime):
        raise loyalty_error(LoyaltyError.EXPIRY_IN_PAST, field="expires_on")
    card = _locked_card(card.pk)
    if card.status == CourseCardStatus.VOIDED:
        raise loyalty_error(LoyaltyError.COURSE_CARD_NOT_ACTIVE)
    if expires_on < salon_today():
        raise loyalty_error(LoyaltyError.EXPIRY_IN_PAST)
    if card.expires_on is None:
        raise loyalty_error(LoyaltyError.EXPIRY_NOT_LATER, message=_("This card never expires."))
    if expires_on <= card.expires_on:
        raise loyalty_error(LoyaltyError.EXPIRY_NOT_LATER)
    was = card.expires_on
    card.expires_on = expires_on
    card.save(update_fields=["expires_on"])
    audit_record(
        action="loyalty.course_card_extended",
        actor=acting_user,
        target=card,
        data={"client": card.client_id, "from": was.isoformat(), "to": expires_on.isoformat(), "reason": reason},
    )
    return card
