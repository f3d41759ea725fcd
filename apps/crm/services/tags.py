"""Tags and tiers (CRM-3): manual tags given by staff one by one or in bulk, automatic tags kept by
their rules, and membership tiers."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate
from django.utils import timezone

from apps.core.db import salon_timezone
from apps.core.models import User
from apps.core.services import audit_record
from apps.crm.errors import CrmError, crm_error
from apps.crm.models import Client, ClientTag, MembershipTier, PurchaseKind, PurchaseLine, Tag, TagRule, TagSource

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
RULE_PARAMETERS: dict[str, tuple[str, ...]] = {
    TagRule.SPEND_OVER: ("rule_amount", "rule_months"),
    TagRule.VISITS_AT_LEAST: ("rule_count", "rule_months"),
    TagRule.LAPSED: ("rule_days",),
    TagRule.BIRTHDAY_THIS_MONTH: (),
    TagRule.NEW_CLIENT: ("rule_days",),
}
_ALL_PARAMETERS = ("rule_amount", "rule_count", "rule_months", "rule_days")


def _clean_tag(*, name: str, color: str, rule: str, parameters: dict[str, Any]) -> dict[str, Any]:
    name = re.sub(r"\s+", " ", (name or "").strip())
    if not name or len(name) > 40:
        raise crm_error(CrmError.NAME_REQUIRED)
    color = (color or "").strip()
    if not _HEX.match(color):
        raise crm_error(CrmError.INVALID_COLOR)
    rule = rule or ""
    if rule and rule not in RULE_PARAMETERS:
        raise crm_error(CrmError.INVALID_TAG_RULE)
    cleaned: dict[str, Any] = {"name": name, "color": color.lower(), "rule": rule}
    needed = RULE_PARAMETERS.get(rule, ())
    for field in _ALL_PARAMETERS:
        value = parameters.get(field)
        if field in needed:
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise crm_error(CrmError.INVALID_TAG_RULE, field=field)
            cleaned[field] = value
        else:
            cleaned[field] = None  # parameters of other rules are dropped, never left to confuse
    return cleaned


def _save_tag(tag: Tag) -> Tag:
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError:
        raise crm_error(CrmError.DUPLICATE_TAG)
    return tag


@transaction.atomic
def tag_create(
    *, name: str, color: str = "#2563eb", description: str = "", rule: str = "", acting_user: User | None, **params: Any
) -> Tag:
    """A new tag with a case-insensitively unique name. A tag with a rule is automatic and is
    filled at once from the current data."""
    cleaned = _clean_tag(name=name, color=color, rule=rule, parameters=params)
    if Tag.objects.filter(name__iexact=cleaned["name"]).exists():
        raise crm_error(CrmError.DUPLICATE_TAG)
    tag = _save_tag(Tag(description=(description or "").strip()[:200], **cleaned))
    if tag.rule:
        tag_rule_apply(tag=tag)
    return tag


@transaction.atomic
def tag_update(
    *, tag: Tag, name: str, color: str, description: str = "", rule: str = "", acting_user: User | None, **params: Any
) -> Tag:
    """Rename, recolour or change the rule. Turning a manual tag into an automatic one hands its
    clients over to the rule; turning an automatic tag manual keeps its clients as manual tags."""
    tag = Tag.objects.select_for_update().get(pk=tag.pk)
    cleaned = _clean_tag(name=name, color=color, rule=rule, parameters=params)
    if Tag.objects.filter(name__iexact=cleaned["name"]).exclude(pk=tag.pk).exists():
        raise crm_error(CrmError.DUPLICATE_TAG)
    was_automatic = tag.is_automatic
    for field, value in cleaned.items():
        setattr(tag, field, value)
    tag.description = (description or "").strip()[:200]
    _save_tag(tag)
    if tag.is_automatic:
        tag_rule_apply(tag=tag)
    elif was_automatic:
        tag.client_tags.update(source=TagSource.MANUAL)
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag, acting_user: User | None) -> None:
    """Delete a tag and remove it from every client (audited with the count)."""
    count = tag.client_tags.count()
    audit_record(action="clients.tag_delete", actor=acting_user, target=tag, data={"name": tag.name, "clients": count})
    tag.delete()


def _active_clients(ids: Iterable[int]) -> list[int]:
    wanted = sorted({int(i) for i in ids})
    found = list(Client.objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
    if len(found) != len(wanted):
        raise crm_error(CrmError.UNKNOWN_CLIENT, field="clients")
    return found


@transaction.atomic
def clients_tag(*, client_ids: Iterable[int], tag: Tag, acting_user: User | None) -> int:
    """Give a manual tag to every listed client (those who have it already keep it). All the
    clients must be active; returns how many newly got it."""
    if tag.is_automatic:
        raise crm_error(CrmError.AUTOMATIC_TAG, field="tag")
    ids = _active_clients(client_ids)
    already = set(ClientTag.objects.filter(tag=tag, client_id__in=ids).values_list("client_id", flat=True))
    actor = acting_user if acting_user is not None and acting_user.pk else None
    ClientTag.objects.bulk_create(
        [ClientTag(client_id=pk, tag=tag, created_by=actor) for pk in ids if pk not in already], ignore_conflicts=True
    )
    return len(ids) - len(already)


@transaction.atomic
def clients_untag(*, client_ids: Iterable[int], tag: Tag, acting_user: User | None) -> int:
    """Remove a manual tag from every listed client; returns how many lost it."""
    if tag.is_automatic:
        raise crm_error(CrmError.AUTOMATIC_TAG, field="tag")
    ids = _active_clients(client_ids)
    deleted, _ = ClientTag.objects.filter(tag=tag, client_id__in=ids).delete()
    return deleted


def rule_members(tag: Tag, *, now: datetime.datetime | None = None) -> set[int]:
    """Ids of the active clients the tag's rule selects right now."""
    now = now or timezone.now()
    tz = salon_timezone()
    clients = Client.objects.filter(is_active=True)
    purchases = PurchaseLine.objects.filter(client__is_active=True)
    if tag.rule == TagRule.SPEND_OVER:
        since = now - datetime.timedelta(days=round(30.4375 * (tag.rule_months or 0)))
        spenders = (
            purchases.filter(occurred_at__gte=since)
            .exclude(kind=PurchaseKind.TOP_UP)  # stored value is spent when it buys something
            .values("client_id")
            .annotate(spend=Sum("amount"))
            .filter(spend__gte=tag.rule_amount or 0)
        )
        return {row["client_id"] for row in spenders}
    if tag.rule == TagRule.VISITS_AT_LEAST:
        since = now - datetime.timedelta(days=round(30.4375 * (tag.rule_months or 0)))
        visit = Coalesce(
            NullIf("visit_reference", Value("")),
            Cast(TruncDate("occurred_at", tzinfo=tz), output_field=PurchaseLine._meta.get_field("item_name")),
        )
        regulars = (
            purchases.filter(occurred_at__gte=since, amount__gt=0)
            .values("client_id")
            .annotate(visits=Count(visit, distinct=True))
            .filter(visits__gte=tag.rule_count or 0)
        )
        return {row["client_id"] for row in regulars}
    if tag.rule == TagRule.LAPSED:
        before = now - datetime.timedelta(days=tag.rule_days or 0)
        lapsed = purchases.values("client_id").annotate(last=Max("occurred_at")).filter(last__lt=before)
        return {row["client_id"] for row in lapsed}
    if tag.rule == TagRule.BIRTHDAY_THIS_MONTH:
        from apps.crm.services.clients import client_next_birthday

        today = now.astimezone(tz).date()
        solar = set(clients.filter(birthday__month=today.month, birthday_is_lunar=False).values_list("pk", flat=True))
        lunar = {
            c.pk
            for c in clients.filter(birthday_is_lunar=True).only(
                "pk", "birthday", "birthday_is_lunar", "lunar_birthday_month", "lunar_birthday_day"
            )
            if (nb := client_next_birthday(c, today=today.replace(day=1))) is not None
            and (nb.year, nb.month) == (today.year, today.month)
        }
        return solar | lunar
    if tag.rule == TagRule.NEW_CLIENT:
        since = now - datetime.timedelta(days=tag.rule_days or 0)
        return set(clients.filter(created_at__gte=since).values_list("pk", flat=True))
    return set()


@transaction.atomic
def tag_rule_apply(*, tag: Tag, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Make the automatic tag's clients exactly the rule's selection; returns (added, removed).
    The tag row is locked so two recomputations of one tag never interleave."""
    tag = Tag.objects.select_for_update().get(pk=tag.pk)
    if not tag.is_automatic:
        return 0, 0
    wanted = rule_members(tag, now=now)
    current = set(tag.client_tags.values_list("client_id", flat=True))
    removed, _ = tag.client_tags.filter(client_id__in=current - wanted).delete()
    ClientTag.objects.bulk_create(
        [ClientTag(client_id=pk, tag=tag, source=TagSource.RULE) for pk in sorted(wanted - current)],
        ignore_conflicts=True,
    )
    tag.recomputed_at = timezone.now()
    tag.save(update_fields=["recomputed_at"])
    return len(wanted - current), removed


def tags_recompute(*, now: datetime.datetime | None = None) -> dict[str, tuple[int, int]]:
    """Recompute every automatic tag of the salon (the nightly task and the "recompute" button)."""
    return {tag.name: tag_rule_apply(tag=tag, now=now) for tag in Tag.objects.exclude(rule="").order_by("pk")}


# --- tiers ------------------------------------------------------------------


def _clean_tier(*, name: str, rank: Any, color: str) -> dict[str, Any]:
    name = re.sub(r"\s+", " ", (name or "").strip())
    if not name or len(name) > 50:
        raise crm_error(CrmError.NAME_REQUIRED)
    if not isinstance(rank, int) or isinstance(rank, bool) or not 0 <= rank <= 1000:
        raise crm_error(CrmError.DUPLICATE_TIER, field="rank")
    if not _HEX.match((color or "").strip()):
        raise crm_error(CrmError.INVALID_COLOR)
    return {"name": name, "rank": rank, "color": color.strip().lower()}


def _save_tier(tier: MembershipTier) -> MembershipTier:
    try:
        with transaction.atomic():
            tier.save()
    except IntegrityError:
        raise crm_error(CrmError.DUPLICATE_TIER)
    return tier


@transaction.atomic
def tier_create(*, name: str, rank: int, color: str = "#8c6d1f", acting_user: User | None) -> MembershipTier:
    """A membership tier; names (case-insensitive) and ranks are unique."""
    cleaned = _clean_tier(name=name, rank=rank, color=color)
    if MembershipTier.objects.filter(Q(name__iexact=cleaned["name"]) | Q(rank=cleaned["rank"])).exists():
        raise crm_error(CrmError.DUPLICATE_TIER)
    return _save_tier(MembershipTier(**cleaned))


@transaction.atomic
def tier_update(*, tier: MembershipTier, name: str, rank: int, color: str, acting_user: User | None) -> MembershipTier:
    cleaned = _clean_tier(name=name, rank=rank, color=color)
    others = MembershipTier.objects.exclude(pk=tier.pk)
    if others.filter(Q(name__iexact=cleaned["name"]) | Q(rank=cleaned["rank"])).exists():
        raise crm_error(CrmError.DUPLICATE_TIER)
    for field, value in cleaned.items():
        setattr(tier, field, value)
    return _save_tier(tier)


@transaction.atomic
def tier_delete(*, tier: MembershipTier, acting_user: User | None) -> None:
    """A tier still held by a client (active or not) cannot be deleted."""
    if Client.objects.filter(tier=tier).exists():
        raise crm_error(CrmError.TIER_IN_USE)
    audit_record(action="clients.tier_delete", actor=acting_user, target=tier, data={"name": tier.name})
    tier.delete()
