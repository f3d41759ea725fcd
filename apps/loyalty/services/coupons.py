"""Coupons (LOY-6): issuing coupons to clients (one, a list; rules in ``coupon_rules``), redeeming one
on a bill, giving it back when the bill is refunded, and voiding. Templates: ``coupon_templates``.

What a coupon takes off a draft bill is worked out in ``coupon_pricing``. Issuing is idempotent by
``issue_key`` and keeps a template's ``max_issued`` even when many issue at once; redeeming is
idempotent by the bill's reference."""

from __future__ import annotations

import copy
import datetime
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.db import salon_today
from apps.core.models import User
from apps.core.services import audit_record
from apps.crm.models import Client
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import Coupon, CouponSource, CouponStatus, CouponTemplate
from apps.loyalty.services import _common as check
from apps.loyalty.services import coupon_pricing as pricing

# No 0/O, 1/I/L: a code read out at the desk or typed from a screenshot is not misread.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10

# --- issuing -----------------------------------------------------------------------------------


def coupon_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _position in range(CODE_LENGTH))


def _validity(template: CouponTemplate, start: datetime.date) -> tuple[datetime.date, datetime.date | None]:
    """(valid from, valid until) of a coupon issued on ``start``: the template's dates, or ``valid_days``
    days counting the first (7 days from a Monday: until Sunday)."""
    if template.valid_days:
        return start, start + datetime.timedelta(days=template.valid_days - 1)
    return template.valid_from or start, template.valid_until


def _take(template: CouponTemplate, count: int) -> None:
    """Count ``count`` more coupons as issued, or refuse. One UPDATE whose condition holds the limit:
    concurrent issues queue on the row and each re-reads the count, so the limit is never passed."""
    within = Q(max_issued__isnull=True) | Q(max_issued__gte=F("issued_count") + count)
    updated = CouponTemplate.objects.filter(within, pk=template.pk, is_active=True).update(
        issued_count=F("issued_count") + count
    )
    if updated:
        return
    current = CouponTemplate.objects.get(pk=template.pk)
    if not current.is_active:
        raise loyalty_error(LoyaltyError.COUPON_TEMPLATE_INACTIVE)
    left = max(0, (current.max_issued or 0) - current.issued_count)
    if count > 1 and left:
        raise loyalty_error(
            LoyaltyError.COUPON_LIMIT_REACHED,
            message=_("Only %(left)s more coupons of this kind may be issued.") % {"left": left},
        )
    raise loyalty_error(LoyaltyError.COUPON_LIMIT_REACHED)


def _violated(error: IntegrityError) -> str:
    return getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") or ""


def _replayed(key: str, template: CouponTemplate, client_id: int) -> Coupon | None:
    coupon = Coupon.objects.filter(issue_key=key).first()
    if coupon is not None and (coupon.template_id != template.pk or coupon.client_id != client_id):
        raise loyalty_error(LoyaltyError.KEY_REUSED, field="issue_key")
    return coupon


def _create_coupons(coupons: list[Coupon]) -> list[Coupon]:
    """Insert with fresh random codes; a code already taken (about one in 10¹⁵) is drawn again."""
    for _attempt in range(5):
        for coupon in coupons:
            coupon.code = coupon_code_new()
        try:
            with transaction.atomic():
                return Coupon.objects.bulk_create(coupons)
        except IntegrityError as error:
            if _violated(error) != "coupon_code_unique":
                raise
    raise RuntimeError("no free coupon code after 5 attempts")


def issue_once(
    *,
    template: CouponTemplate,
    client: Client,
    source: str,
    issue_key: str,
    acting_user: User | None,
    valid_from: datetime.date | None = None,
) -> tuple[Coupon, bool]:
    """Issue one coupon without the permission check (rules and rewards call this): returns (the coupon,
    whether it is new). Its writes run in a savepoint, so a refusal leaves the caller's transaction usable."""
    key = check.key(issue_key)
    if source not in CouponSource.values:
        raise ValueError(source)
    replay = _replayed(key, template, client.pk)
    if replay is not None:
        return replay, False
    check.active_client(client)
    starts, ends = _validity(template, valid_from or salon_today())
    if ends is not None and ends < max(starts, salon_today()):
        raise loyalty_error(LoyaltyError.COUPON_WINDOW_ENDED)
    coupon = Coupon(
        template=template,
        client=client,
        source=source,
        valid_from=starts,
        valid_until=ends,
        issue_key=key,
        issued_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    try:
        with transaction.atomic():  # the count and the coupon stand or fall together
            _take(template, 1)
            _create_coupons([coupon])
    except IntegrityError as error:
        # The same key issued at this very moment by another request: return its coupon.
        if _violated(error) != "coupon_issue_key_unique":
            raise
        replay = _replayed(key, template, client.pk)
        if replay is None:
            raise
        return replay, False
    return coupon, True


@transaction.atomic
def coupon_issue(
    *,
    template: CouponTemplate,
    client: Client,
    source: str = CouponSource.MANUAL,
    issue_key: str,
    acting_user: User | None,
    valid_from: datetime.date | None = None,
) -> Coupon:
    """Give the client one coupon of ``template``: refused when the template is inactive, its dates have
    passed or all ``max_issued`` are out; a replay of ``issue_key`` returns the first coupon. Staff need
    ``manage_loyalty``; rules and rewards issue with no acting user."""
    check.require_permission(acting_user, "manage_loyalty")
    coupon, created = issue_once(
        template=template,
        client=client,
        source=source,
        issue_key=issue_key,
        acting_user=acting_user,
        valid_from=valid_from,
    )
    if created and acting_user is not None:
        audit_record(
            action="loyalty.coupon.issued",
            actor=acting_user,
            target=client,
            data={"coupon": coupon.pk, "template": template.pk, "code": coupon.code},
        )
    return coupon


MAX_BATCH_KEY = 40


@transaction.atomic
def coupons_issue_bulk(
    *, template: CouponTemplate, clients: Iterable[Client | int], acting_user: User | None, batch_key: str
) -> int:
    """Give one coupon to each active client listed (``manage_loyalty``, audited); returns how many were
    issued. Clients who already got one under ``batch_key`` are skipped, so a resubmitted list issues
    nothing twice. All or nothing: when fewer coupons are left than clients, none is issued."""
    check.require_permission(acting_user, "manage_loyalty")
    batch = check.key(batch_key)
    if len(batch) > MAX_BATCH_KEY:
        raise loyalty_error(LoyaltyError.TEXT_TOO_LONG, field="batch_key")
    wanted: set[int] = set()
    for client in clients:
        pk = client.pk if isinstance(client, Client) else client
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise loyalty_error(LoyaltyError.NOT_FOUND, field="clients")
        wanted.add(pk)
    ids = sorted(wanted)
    active = list(Client.objects.filter(pk__in=ids, is_active=True).order_by("pk").values_list("pk", flat=True))
    if not active:
        raise loyalty_error(LoyaltyError.NO_RECIPIENTS)
    keys = {pk: f"bulk:{template.pk}:{batch}:{pk}" for pk in active}
    starts, ends = _validity(template, salon_today())
    if ends is not None and ends < max(starts, salon_today()):
        raise loyalty_error(LoyaltyError.COUPON_WINDOW_ENDED)
    actor = acting_user if acting_user is not None and acting_user.pk else None
    for attempt in range(2):
        done = set(Coupon.objects.filter(issue_key__in=keys.values()).values_list("issue_key", flat=True))
        todo = [pk for pk in active if keys[pk] not in done]
        if not todo:
            return 0
        try:
            with transaction.atomic():  # the count and the coupons stand or fall together
                _take(template, len(todo))
                _create_coupons(
                    [
                        Coupon(
                            template=template,
                            client_id=pk,
                            source=CouponSource.BULK,
                            valid_from=starts,
                            valid_until=ends,
                            issue_key=keys[pk],
                            issued_by=actor,
                        )
                        for pk in todo
                    ]
                )
            break
        except IntegrityError as error:
            # The same form submitted twice at once: the other submission committed first, so look
            # again at who still needs one.
            if attempt or _violated(error) != "coupon_issue_key_unique":
                raise
    audit_record(
        action="loyalty.coupons.issued_bulk",
        actor=acting_user,
        target=template,
        data={"batch_key": batch, "issued": len(todo), "skipped": len(ids) - len(todo)},
    )
    return len(todo)


# --- redeeming, giving back, voiding -------------------------------------------------------------


def _reference(value: Any) -> str:
    reference = "" if value is None else str(value).strip()
    if not reference:
        raise loyalty_error(LoyaltyError.KEY_REQUIRED, field="reference")
    if len(reference) > check.MAX_KEY_LENGTH or "\x00" in reference:
        raise loyalty_error(LoyaltyError.TEXT_TOO_LONG, field="reference")
    return reference


def _check_stacking(coupon: Coupon, others: Sequence[Coupon]) -> None:
    if not others:
        return
    if not coupon.template.stackable or any(not other.template.stackable for other in others):
        raise loyalty_error(LoyaltyError.COUPON_NOT_STACKABLE)
    if coupon.template.one_per_bill and any(other.template_id == coupon.template_id for other in others):
        raise loyalty_error(LoyaltyError.COUPON_ONE_PER_BILL)


@transaction.atomic
def coupon_redeem(
    *,
    coupon: Coupon,
    client: Client,
    lines: Iterable[Any],
    reference: str,
    acting_user: User | None,
    other_coupons: Iterable[Coupon] = (),
) -> Coupon:
    """Use the coupon on the bill ``reference`` (``take_payments``): everything is checked again under
    the coupon's row lock — still available, the client's own, valid today, its conditions met on
    ``lines``, allowed with ``other_coupons`` (the bill's other coupons) — and the discount it gives is
    recorded (its share when stacked, so the bill's coupons never take off more than its subtotal).
    A replay with the same reference returns the coupon unchanged."""
    check.require_permission(acting_user, "take_payments")
    reference = _reference(reference)
    checked = pricing.lines_checked(lines)
    # Only this coupon is locked: each coupon of a bill is redeemed by its own call, in any order.
    locked = Coupon.objects.select_for_update(of=("self",)).select_related("template").get(pk=coupon.pk)
    if locked.status == CouponStatus.REDEEMED and locked.redeemed_reference == reference:
        return locked
    if locked.status != CouponStatus.AVAILABLE:
        raise loyalty_error(LoyaltyError.COUPON_NOT_AVAILABLE)
    if locked.client_id != client.pk:
        raise loyalty_error(LoyaltyError.COUPON_OTHER_CLIENT)
    others = list(
        Coupon.objects.filter(pk__in={c.pk for c in other_coupons})
        .exclude(pk=locked.pk)
        .select_related("template")
        .order_by("pk")
    )
    if any(other.client_id != client.pk for other in others):
        raise loyalty_error(LoyaltyError.COUPON_OTHER_CLIENT)
    # The bill's coupons already redeemed on it are weighed as they were then (available), so each
    # coupon's share is the same whichever order the till redeems them in.
    here = [o for o in others if o.status == CouponStatus.REDEEMED and o.redeemed_reference == reference]
    weighed = [copy.copy(o) if o in here else o for o in others]
    for other in weighed:
        if other in here:
            other.status = CouponStatus.AVAILABLE
    options = pricing.options_for([locked, *weighed], checked, today=salon_today())
    if options[0].reason_if_not_applicable is not None:
        raise loyalty_error(options[0].reason_if_not_applicable)
    _check_stacking(locked, others)
    subtotal = sum(line.amount for line in checked)
    left = max(0, subtotal - sum(o.discount for o in here))
    share = min(pricing.allocate(options, subtotal)[locked.pk], left)
    locked.status = CouponStatus.REDEEMED
    locked.discount = share
    locked.redeemed_at = timezone.now()
    locked.redeemed_reference = reference
    locked.redeemed_by = acting_user if acting_user is not None and acting_user.pk else None
    locked.save(update_fields=["status", "discount", "redeemed_at", "redeemed_reference", "redeemed_by"])
    return locked


@transaction.atomic
def coupon_redeem_reverse(*, coupon: Coupon, acting_user: User | None, reference: str = "") -> Coupon:
    """The bill the coupon was used on was refunded (``issue_refunds``): the coupon comes back to the
    client while still valid; one past its last day is voided instead (it can never be used again).
    ``reference`` (the refunded bill) guards against giving back a later use; a replay changes nothing."""
    check.require_permission(acting_user, "issue_refunds")
    locked = Coupon.objects.select_for_update().get(pk=coupon.pk)
    if locked.status != CouponStatus.REDEEMED:
        if reference:
            return locked  # given back already
        raise loyalty_error(LoyaltyError.COUPON_NOT_REDEEMED)
    if reference and locked.redeemed_reference != reference.strip():
        raise loyalty_error(LoyaltyError.COUPON_NOT_REDEEMED)
    used_on = locked.redeemed_reference
    expired = locked.valid_until is not None and locked.valid_until < salon_today()
    locked.status = CouponStatus.VOIDED if expired else CouponStatus.AVAILABLE
    locked.discount = 0
    locked.redeemed_at = None
    locked.redeemed_reference = ""
    locked.redeemed_by = None
    locked.save(update_fields=["status", "discount", "redeemed_at", "redeemed_reference", "redeemed_by"])
    audit_record(
        action="loyalty.coupon.redemption_reversed",
        actor=acting_user,
        target=locked,
        data={"reference": used_on, "status": locked.status},
    )
    return locked


@transaction.atomic
def coupon_void(*, coupon: Coupon, reason: str, acting_user: User | None) -> Coupon:
    """Take an unused coupon away from the client (``manage_loyalty``, with a reason, audited). A used
    coupon cannot be voided; voiding one already voided changes nothing."""
    check.require_permission(acting_user, "manage_loyalty")
    reason = "" if reason is None else str(reason).strip()
    if not reason:
        raise loyalty_error(LoyaltyError.REASON_REQUIRED)
    if len(reason) > 200 or "\x00" in reason:
        raise loyalty_error(LoyaltyError.TEXT_TOO_LONG, field="reason")
    locked = Coupon.objects.select_for_update().get(pk=coupon.pk)
    if locked.status == CouponStatus.VOIDED:
        return locked
    if locked.status != CouponStatus.AVAILABLE:
        raise loyalty_error(LoyaltyError.COUPON_NOT_AVAILABLE)
    locked.status = CouponStatus.VOIDED
    locked.save(update_fields=["status"])
    audit_record(
        action="loyalty.coupon.voided",
        actor=acting_user,
        target=locked,
        data={"code": locked.code, "client": locked.client_id, "reason": reason},
    )
    return locked
