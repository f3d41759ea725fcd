"""Writes of commission (POS-6): the salon's rules, the ledger entries of a paid bill, their reversal when
the bill is refunded, and the audited export of the staff performance report.

The bill flow calls two functions, inside its own transaction:

* ``commission_record_for_bill(*, bill)`` once the bill is paid;
* ``commission_reverse_for_refund(*, refund)`` once a refund of it has gone through.

Both are idempotent (a second call writes nothing, and a unique constraint stands behind that) and run a
fixed number of statements whatever the size of the bill. docs/till-commission.md gives every rule.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Sum

from apps.catalog.models import Product, ProductCategory, Service, ServiceCategory
from apps.core.db import salon_timezone
from apps.core.models import Location, StaffLevel, User
from apps.core.money import MAX_AMOUNT
from apps.core.roles import perm
from apps.core.services import audit_record
from apps.pos.errors import PosError, pos_error
from apps.pos.models import (
    Bill,
    BillLine,
    BillLineStaff,
    BillStatus,
    CommissionEntry,
    CommissionEntryKind,
    CommissionMethod,
    CommissionRule,
    CommissionScope,
    CommissionTier,
    LineKind,
    Refund,
    RefundLine,
    RefundStatus,
)
from apps.pos.models.commission import MAX_RATE

UNSET: Any = object()
WHOLE = 10_000  # basis points in a whole: shares and rates are both out of 10 000
MAX_TIERS = 10

# Most specific first: the item itself, then its category, then its kind of line, then the salon default.
# Within one rank, a rule for the staff member's level comes before a rule for every level.
SCOPE_RANK = {
    CommissionScope.SERVICE: 0,
    CommissionScope.PRODUCT: 0,
    CommissionScope.SERVICE_CATEGORY: 1,
    CommissionScope.PRODUCT_CATEGORY: 1,
    CommissionScope.KIND: 2,
    CommissionScope.DEFAULT: 3,
}
TARGETS = {
    CommissionScope.SERVICE: "service",
    CommissionScope.PRODUCT: "product",
    CommissionScope.SERVICE_CATEGORY: "service_category",
    CommissionScope.PRODUCT_CATEGORY: "product_category",
    CommissionScope.KIND: "line_kind",
}
TARGET_TYPES: dict[str, type[models.Model]] = {
    "service": Service,
    "product": Product,
    "service_category": ServiceCategory,
    "product_category": ProductCategory,
}


def div_half_up(numerator: int, denominator: int) -> int:
    """``numerator ÷ denominator`` rounded to the nearest whole, halves away from zero (denominator > 0)."""
    if numerator < 0:
        return -((-numerator * 2 + denominator) // (denominator * 2))
    return (numerator * 2 + denominator) // (denominator * 2)


# --- rules ---------------------------------------------------------------------------------------------


def _require(user: User | None, codename: str) -> None:
    """Staff actions check the role here as well as in the view: the API calls services too. ``None`` is the
    system itself (the demo, a migration)."""
    if user is not None and not user.has_perm(perm(codename)):
        raise pos_error(PosError.COMMISSION_PERMISSION_DENIED)


def _whole(value: Any, *, low: int, high: int, code: PosError, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise pos_error(code, field=field)
    return value


def _tiers(value: Any) -> list[tuple[int, int]]:
    """Tiers as ``(from_volume, rate_bp)`` pairs, sorted; the first starts at 0, volumes differ."""
    try:
        pairs = [(item["from_volume"], item["rate_bp"]) if isinstance(item, Mapping) else tuple(item) for item in value]
    except (TypeError, KeyError):
        raise pos_error(PosError.COMMISSION_TIERS_INVALID) from None
    if not 1 <= len(pairs) <= MAX_TIERS or any(len(pair) != 2 for pair in pairs):
        raise pos_error(PosError.COMMISSION_TIERS_INVALID)
    for volume, rate in pairs:
        _whole(volume, low=0, high=MAX_AMOUNT, code=PosError.COMMISSION_TIERS_INVALID, field="tiers")
        _whole(rate, low=0, high=MAX_RATE, code=PosError.COMMISSION_TIERS_INVALID, field="tiers")
    pairs.sort()
    volumes = [volume for volume, _rate in pairs]
    if volumes[0] != 0 or len(set(volumes)) != len(volumes):
        raise pos_error(PosError.COMMISSION_TIERS_INVALID)
    return pairs


def _check_rule(rule: CommissionRule, tiers: Any) -> list[tuple[int, int]]:
    """Normalise and check a rule before it is written; return its tiers. Targets the scope does not use
    and figures the method does not use are cleared (a form sends every field)."""
    if rule.scope not in CommissionScope.values:
        raise pos_error(PosError.COMMISSION_SCOPE_INVALID)
    target = TARGETS.get(CommissionScope(rule.scope))
    for field in TARGET_TYPES:
        if field != target:
            setattr(rule, field, None)
    if target != "line_kind":
        rule.line_kind = ""
    if target == "line_kind":
        if rule.line_kind not in LineKind.values:
            raise pos_error(PosError.COMMISSION_TARGET_REQUIRED, field="line_kind")
    elif target is not None:
        value = getattr(rule, target)
        if not isinstance(value, TARGET_TYPES[target]) or value.pk is None:
            raise pos_error(PosError.COMMISSION_TARGET_REQUIRED, field=target)
    if rule.staff_level is not None and not isinstance(rule.staff_level, StaffLevel):
        raise pos_error(PosError.COMMISSION_TARGET_REQUIRED, field="staff_level")

    if rule.method not in CommissionMethod.values:
        raise pos_error(PosError.COMMISSION_METHOD_INVALID)
    pairs: list[tuple[int, int]] = []
    if rule.method == CommissionMethod.PERCENTAGE:
        _whole(rule.rate_bp, low=0, high=MAX_RATE, code=PosError.COMMISSION_RATE_INVALID, field="rate_bp")
        rule.fixed_amount = None
    elif rule.method == CommissionMethod.FIXED:
        _whole(rule.fixed_amount, low=0, high=MAX_AMOUNT, code=PosError.COMMISSION_AMOUNT_INVALID, field="fixed_amount")
        rule.rate_bp = None
    else:
        pairs = _tiers(tiers)
        rule.rate_bp = rule.fixed_amount = None
    _whole(
        rule.requested_bonus_bp, low=0, high=MAX_RATE, code=PosError.COMMISSION_RATE_INVALID, field="requested_bonus_bp"
    )
    _whole(
        rule.requested_bonus_amount,
        low=0,
        high=MAX_AMOUNT,
        code=PosError.COMMISSION_AMOUNT_INVALID,
        field="requested_bonus_amount",
    )

    for value, field in ((rule.valid_from, "valid_from"), (rule.valid_until, "valid_until")):
        if value is not None and (not isinstance(value, datetime.date) or isinstance(value, datetime.datetime)):
            raise pos_error(PosError.COMMISSION_WINDOW_INVALID, field=field)
    if rule.valid_from and rule.valid_until and rule.valid_until < rule.valid_from:
        raise pos_error(PosError.COMMISSION_WINDOW_INVALID)
    rule.name = "" if rule.name is None else str(rule.name).strip()
    if len(rule.name) > CommissionRule._meta.get_field("name").max_length or "\x00" in rule.name:  # type: ignore[operator]
        raise pos_error(PosError.COMMISSION_TEXT_TOO_LONG, field="name")
    if not isinstance(rule.is_active, bool):
        raise pos_error(PosError.COMMISSION_METHOD_INVALID, field="is_active")
    return pairs


def _save(rule: CommissionRule, pairs: list[tuple[int, int]], *, replace_tiers: bool) -> None:
    """Write the rule (and its tiers). Two active rules for one target and level valid on the same day are
    refused by the exclusion constraint, also when two managers save at the same moment."""
    try:
        with transaction.atomic():
            rule.save()
            if replace_tiers:
                CommissionTier.objects.filter(rule=rule).delete()
                CommissionTier.objects.bulk_create(
                    [CommissionTier(rule=rule, from_volume=volume, rate_bp=rate) for volume, rate in pairs]
                )
    except IntegrityError as exc:
        diag = getattr(exc.__cause__, "diag", None)
        if getattr(diag, "constraint_name", "") == "commission_rule_no_overlap":
            raise pos_error(PosError.COMMISSION_RULE_OVERLAP) from None
        raise


def _rule_data(rule: CommissionRule, pairs: Sequence[tuple[int, int]]) -> dict[str, Any]:
    field = TARGETS.get(CommissionScope(rule.scope))
    target = rule.line_kind if field == "line_kind" else getattr(rule, f"{field}_id") if field else None
    return {
        "scope": rule.scope,
        "target": target,
        "staff_level": rule.staff_level_id,
        "method": rule.method,
        "rate_bp": rule.rate_bp,
        "fixed_amount": rule.fixed_amount,
        "tiers": [list(pair) for pair in pairs],
        "requested_bonus_bp": rule.requested_bonus_bp,
        "requested_bonus_amount": rule.requested_bonus_amount,
        "valid_from": rule.valid_from.isoformat() if rule.valid_from else None,
        "valid_until": rule.valid_until.isoformat() if rule.valid_until else None,
        "is_active": rule.is_active,
    }


@transaction.atomic
def commission_rule_create(
    *,
    scope: str,
    method: str,
    acting_user: User | None,
    service: Service | None = None,
    product: Product | None = None,
    service_category: ServiceCategory | None = None,
    product_category: ProductCategory | None = None,
    line_kind: str = "",
    staff_level: StaffLevel | None = None,
    rate_bp: int | None = None,
    fixed_amount: int | None = None,
    tiers: Iterable[Any] = (),
    requested_bonus_bp: int = 0,
    requested_bonus_amount: int = 0,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    name: str = "",
    is_active: bool = True,
) -> CommissionRule:
    """A rule for what ``scope`` names (the target the scope uses: a service, product, category or kind of
    line; nothing for the salon default), optionally for one staff level. Needs ``manage_staff``. Two
    active rules for one target and level may not be valid on the same day."""
    _require(acting_user, "manage_staff")
    rule = CommissionRule(
        name=name,
        scope=scope,
        service=service,
        product=product,
        service_category=service_category,
        product_category=product_category,
        line_kind=line_kind or "",
        staff_level=staff_level,
        method=method,
        rate_bp=rate_bp,
        fixed_amount=fixed_amount,
        requested_bonus_bp=requested_bonus_bp,
        requested_bonus_amount=requested_bonus_amount,
        valid_from=valid_from,
        valid_until=valid_until,
        is_active=is_active,
    )
    pairs = _check_rule(rule, tiers)
    _save(rule, pairs, replace_tiers=True)
    audit_record(action="pos.commission_rule.created", actor=acting_user, target=rule, data=_rule_data(rule, pairs))
    return rule


@transaction.atomic
def commission_rule_update(*, rule: CommissionRule, acting_user: User | None, **changes: Any) -> CommissionRule:
    """Change a rule (any field ``commission_rule_create`` takes). Entries already written keep the figures
    they were worked out with; the rule's new figures apply to bills paid from now on."""
    _require(acting_user, "manage_staff")
    allowed = {
        "name",
        "scope",
        "service",
        "product",
        "service_category",
        "product_category",
        "line_kind",
        "staff_level",
        "method",
        "rate_bp",
        "fixed_amount",
        "tiers",
        "requested_bonus_bp",
        "requested_bonus_amount",
        "valid_from",
        "valid_until",
        "is_active",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"commission_rule_update() got unexpected fields {sorted(unknown)}")
    rule = CommissionRule.objects.select_for_update().get(pk=rule.pk)
    current = list(rule.tiers.order_by("from_volume").values_list("from_volume", "rate_bp"))
    tiers = changes.pop("tiers", UNSET)
    for field, value in changes.items():
        if value is UNSET:
            continue
        if field == "line_kind" and value is None:
            value = ""
        setattr(rule, field, value)
    pairs = _check_rule(rule, current if tiers is UNSET else tiers)
    _save(rule, pairs, replace_tiers=pairs != current)
    audit_record(action="pos.commission_rule.updated", actor=acting_user, target=rule, data=_rule_data(rule, pairs))
    return rule


def commission_rule_deactivate(*, rule: CommissionRule, acting_user: User | None) -> CommissionRule:
    """Stop a rule applying; entries that used it keep naming it."""
    return commission_rule_update(rule=rule, acting_user=acting_user, is_active=False)


# --- recording a paid bill -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """A rule as the recording needs it, with its tiers read in the same query."""

    pk: int
    scope: str
    target: Any  # the id of the service/product/category, the kind of line, or None
    staff_level_id: int | None
    method: str
    rate_bp: int | None
    fixed_amount: int | None
    requested_bonus_bp: int
    requested_bonus_amount: int
    tiers: tuple[tuple[int, int], ...]

    def matches(self, line: BillLine, level_id: int | None) -> bool:
        if self.staff_level_id is not None and self.staff_level_id != level_id:
            return False
        if self.scope == CommissionScope.DEFAULT:
            return True
        if self.scope == CommissionScope.KIND:
            return bool(line.kind == self.target)
        if self.scope == CommissionScope.SERVICE:
            return line.service_id == self.target
        if self.scope == CommissionScope.PRODUCT:
            return line.product_id == self.target
        if self.scope == CommissionScope.SERVICE_CATEGORY:
            return line.service is not None and line.service.category_id == self.target
        return line.product is not None and line.product.category_id == self.target

    def rank(self) -> tuple[int, int]:
        return SCOPE_RANK[CommissionScope(self.scope)], 0 if self.staff_level_id is not None else 1

    def tier_rate(self, volume: int) -> int:
        rate = 0
        for from_volume, tier_rate in self.tiers:
            if from_volume <= volume:
                rate = tier_rate
        return rate


_RULES = """
SELECT r.id, r.scope, r.service_id, r.product_id, r.service_category_id, r.product_category_id, r.line_kind,
    r.staff_level_id, r.method, r.rate_bp, r.fixed_amount, r.requested_bonus_bp, r.requested_bonus_amount,
    ARRAY(SELECT t.from_volume FROM {tiers} t WHERE t.rule_id = r.id ORDER BY t.from_volume) AS tier_volumes,
    ARRAY(SELECT t.rate_bp FROM {tiers} t WHERE t.rule_id = r.id ORDER BY t.from_volume) AS tier_rates
FROM {rules} r
WHERE r.is_active
    AND (r.valid_from IS NULL OR r.valid_from <= %(day)s) AND (r.valid_until IS NULL OR r.valid_until >= %(day)s)
    AND (r.staff_level_id IS NULL OR r.staff_level_id = ANY(%(levels)s))
    AND (r.scope = %(default)s
        OR (r.scope = %(kind)s AND r.line_kind = ANY(%(kinds)s))
        OR (r.scope = %(service)s AND r.service_id = ANY(%(services)s))
        OR (r.scope = %(product)s AND r.product_id = ANY(%(products)s))
        OR (r.scope = %(service_category)s AND r.service_category_id = ANY(%(service_categories)s))
        OR (r.scope = %(product_category)s AND r.product_category_id = ANY(%(product_categories)s)))
"""


def _applicable_rules(*, day: datetime.date, lines: Iterable[BillLine], level_ids: set[int]) -> list[_Rule]:
    """One statement: the active rules valid on ``day`` that could apply to one of ``lines``, tiers included
    (constant SQL: it runs on every paid bill, and the ORM's compiling of the same query cost more than
    PostgreSQL's running it)."""
    lines = list(lines)
    params: dict[str, Any] = {
        "day": day,
        "levels": sorted(level_ids),
        "kinds": sorted({line.kind for line in lines}),
        "services": sorted({line.service_id for line in lines if line.service_id}),
        "products": sorted({line.product_id for line in lines if line.product_id}),
        "service_categories": sorted(
            {line.service.category_id for line in lines if line.service and line.service.category_id}
        ),
        "product_categories": sorted(
            {line.product.category_id for line in lines if line.product and line.product.category_id}
        ),
        **{str(scope.value): str(scope.value) for scope in CommissionScope},
    }
    sql = _RULES.format(tiers=CommissionTier._meta.db_table, rules=CommissionRule._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    rules = []
    for row in rows:
        scope = CommissionScope(row["scope"])
        target = row["line_kind"] if scope == CommissionScope.KIND else row.get(f"{TARGETS.get(scope, '')}_id")
        rules.append(
            _Rule(
                pk=row["id"],
                scope=scope,
                target=target,
                staff_level_id=row["staff_level_id"],
                method=row["method"],
                rate_bp=row["rate_bp"],
                fixed_amount=row["fixed_amount"],
                requested_bonus_bp=row["requested_bonus_bp"],
                requested_bonus_amount=row["requested_bonus_amount"],
                tiers=tuple(zip(row["tier_volumes"] or (), row["tier_rates"] or (), strict=True)),
            )
        )
    return rules


def _pick(rules: Iterable[_Rule], line: BillLine, level_id: int | None) -> _Rule | None:
    """The most specific rule that applies (docs/till-commission.md, "Which rule applies")."""
    found = [rule for rule in rules if rule.matches(line, level_id)]
    return min(found, key=_Rule.rank) if found else None


def shares_allocate(amount: int, shares: Sequence[tuple[int, int]]) -> dict[int, int]:
    """Split a line's ``amount`` between its staff ``shares`` (``(id, basis points)`` pairs, listed in the
    order they were added): each part is rounded half up to the fen. When the shares make a whole and the
    rounded parts do not add up to the amount, the difference is settled one fen at a time: a missing fen
    goes to the part that lost the most in rounding, a fen too many comes off the part that gained the most
    (ties: the larger share keeps the advantage, then the share listed first)."""
    parts: dict[int, int] = {}
    remainders: dict[int, int] = {}
    for pk, share in shares:
        parts[pk] = div_half_up(amount * share, WHOLE)
        remainders[pk] = amount * share % WHOLE
    if sum(share for _pk, share in shares) != WHOLE:
        return parts
    difference = amount - sum(parts.values())
    order = {pk: index for index, (pk, _share) in enumerate(shares)}
    share_of = dict(shares)
    if difference > 0:  # parts rounded down lost remainder ÷ 10000 of a fen each
        losers = sorted(
            (pk for pk in parts if remainders[pk] < WHOLE // 2),
            key=lambda pk: (-remainders[pk], -share_of[pk], order[pk]),
        )
        for pk in losers[:difference]:
            parts[pk] += 1
    elif difference < 0:  # parts rounded up gained (10000 − remainder) ÷ 10000 of a fen each
        gainers = sorted(
            (pk for pk in parts if remainders[pk] >= WHOLE // 2),
            key=lambda pk: (remainders[pk], share_of[pk], -order[pk]),
        )
        for pk in gainers[:-difference]:
            parts[pk] -= 1
    return parts


def _month_of(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(salon_timezone()).date().replace(day=1)


def _insert(entries: list[CommissionEntry]) -> list[CommissionEntry]:
    """Insert the entries in one statement, skipping any that already exist (``ON CONFLICT DO NOTHING``:
    the unique constraints on earned entries and reversals make a replay, even a concurrent one, write
    nothing), and return those written, with their ids. Django's ``bulk_create(ignore_conflicts=True)``
    does not say which rows were written, so the statement is built here."""
    if not entries:
        return []
    meta = CommissionEntry._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    params: list[Any] = []
    for entry in entries:
        for field in fields:
            params.append(field.get_db_prep_save(field.pre_save(entry, add=True), connection))
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(str(meta.db_table))} ({', '.join(quote(str(field.column)) for field in fields)}) "
        f"VALUES {', '.join([row] * len(entries))} ON CONFLICT DO NOTHING RETURNING id, line_staff_id, refund_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchall()
    by_key = {(entry.line_staff_id, entry.refund_id): entry for entry in entries}
    written = []
    for pk, line_staff_id, refund_id in returned:
        entry = by_key[(line_staff_id, refund_id)]
        entry.pk = pk
        entry._state.adding = False
        entry._state.db = connection.alias
        written.append(entry)
    return sorted(written, key=lambda entry: entry.pk)


def commission_record_for_bill(*, bill: Bill, lines: Sequence[BillLine] | None = None) -> list[CommissionEntry]:
    """Write what each staff member earned on their share of each line of a paid bill: one earned entry per
    share (amount 0 where no rule applies). Returns the entries written; a bill already recorded gets an
    empty list and nothing is written.

    Call it inside the transaction that marks the bill paid. Four statements whatever the size of the bill:
    the staff rows locked in id order with their levels (so two bills of one technician work out her
    monthly volume one after the other), the rules, the staff's volumes this month, and one insert.
    ``lines`` are the bill's lines as the payment read them under the bill's lock (service and product
    joined, staff shares loaded: ``selectors.bills.bill_lines``); without them the shares are read here."""
    if bill.status != BillStatus.PAID or bill.paid_at is None:
        raise pos_error(PosError.COMMISSION_BILL_NOT_PAID)
    return _record(bill, lines)


_LOCK_STAFF = """
SELECT u.id, p.level_id FROM {users} u LEFT JOIN {profiles} p ON p.user_id = u.id
WHERE u.id = ANY(%s) ORDER BY u.id FOR NO KEY UPDATE OF u
"""


def _staff_locked(staff_ids: Iterable[int]) -> dict[int, int | None]:
    """Lock the staff rows in id order (one statement, no joins for the ORM to compile) and return each
    one's level."""
    from apps.scheduling.models import StaffProfile

    sql = _LOCK_STAFF.format(users=User._meta.db_table, profiles=StaffProfile._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [sorted(set(staff_ids))])
        return {pk: level for pk, level in cursor.fetchall()}


# No savepoint: the bill flow calls this inside its payment transaction, and the only write is one INSERT,
# atomic by itself. The function still opens a transaction when called outside one, so its locks hold.
@transaction.atomic(savepoint=False)
def _record(bill: Bill, given: Sequence[BillLine] | None = None) -> list[CommissionEntry]:
    if given is None:
        given = list(
            BillLine.objects.filter(bill_id=bill.pk)
            .select_related("service", "product")
            .prefetch_related("staff_shares")
            .order_by("position", "id")
        )
    shares = [share for line in given for share in line.staff_shares.all()]
    if not shares:
        return []
    level_of = _staff_locked(share.staff_id for share in shares)
    paid_at = bill.paid_at
    assert paid_at is not None  # checked by the caller
    day = paid_at.astimezone(salon_timezone()).date()
    month = day.replace(day=1)
    lines = {share.line_id: line for line in given for share in line.staff_shares.all()}
    rules = _applicable_rules(day=day, lines=lines.values(), level_ids={lv for lv in level_of.values() if lv})
    volume: dict[int, int] = defaultdict(int)
    if any(rule.method == CommissionMethod.TIERED for rule in rules):
        volume.update(
            CommissionEntry.objects.filter(staff_id__in=sorted(level_of), month=month)
            .values_list("staff_id")
            .annotate(total=Sum("basis"))
            .order_by()
        )

    by_line: dict[int, list[BillLineStaff]] = defaultdict(list)
    for share in sorted(shares, key=lambda s: s.pk):
        by_line[share.line_id].append(share)
    entries: list[CommissionEntry] = []
    # Lines in bill order: a technician's volume grows line by line, so a later line may reach a tier.
    for line in sorted(lines.values(), key=lambda line: (line.position, line.pk)):
        line_shares = by_line[line.pk]
        bases = shares_allocate(line.amount, [(share.pk, share.share) for share in line_shares])
        for share in line_shares:
            basis = bases[share.pk]
            volume[share.staff_id] += basis
            rule = _pick(rules, line, level_of[share.staff_id])
            entries.append(
                _earned(
                    bill=bill,
                    line=line,
                    share=share,
                    basis=basis,
                    rule=rule,
                    volume=volume[share.staff_id],
                    month=month,
                    occurred_at=paid_at,
                )
            )
    return _insert(entries)


def _earned(
    *,
    bill: Bill,
    line: BillLine,
    share: BillLineStaff,
    basis: int,
    rule: _Rule | None,
    volume: int,
    month: datetime.date,
    occurred_at: datetime.datetime,
) -> CommissionEntry:
    """The earned entry of one share: rate × basis plus amount per unit × quantity × share, rounded half up
    once, to the fen."""
    rate: int | None = None
    unit: int | None = None
    used_volume: int | None = None
    if rule is not None:
        if rule.method == CommissionMethod.PERCENTAGE:
            rate = rule.rate_bp
        elif rule.method == CommissionMethod.TIERED:
            used_volume = volume
            rate = rule.tier_rate(volume)
        else:
            unit = rule.fixed_amount
        if share.is_requested:
            if rule.requested_bonus_bp:
                rate = (rate or 0) + rule.requested_bonus_bp
            if rule.requested_bonus_amount:
                unit = (unit or 0) + rule.requested_bonus_amount
    amount = div_half_up(basis * (rate or 0) + (unit or 0) * line.quantity * share.share, WHOLE)
    return CommissionEntry(
        kind=CommissionEntryKind.EARNED,
        staff_id=share.staff_id,
        bill_id=bill.pk,
        line_id=line.pk,
        line_staff_id=share.pk,
        location_id=bill.location_id,
        line_kind=line.kind,
        share=share.share,
        is_requested=share.is_requested,
        quantity=line.quantity,
        basis=basis,
        amount=amount,
        rule_id=rule.pk if rule is not None else None,
        method=rule.method if rule is not None else "",
        rate_bp=rate,
        unit_amount=unit,
        volume=used_volume,
        occurred_at=occurred_at,
        month=month,
    )


# --- reversing a refund --------------------------------------------------------------------------------


def commission_reverse_for_refund(*, refund: Refund) -> list[CommissionEntry]:
    """Give back the commission of the refunded lines: for each earned entry of a refunded line, a reversal
    (negative basis, amount and quantity) in proportion to what has been refunded of the line — by amount,
    or by quantity for a line that cost nothing. Worked out on the running total of the line's refunds, so
    refunding a line in several parts gives back exactly what a whole refund would. Returns the entries
    written; a refund already reversed gets an empty list and nothing is written.

    Call it inside the transaction that marks the refund succeeded. Dated at the refund (its month is the
    one it counts against)."""
    if refund.status != RefundStatus.SUCCEEDED:
        raise pos_error(PosError.COMMISSION_REFUND_NOT_DONE)
    return _reverse(refund)


@transaction.atomic(savepoint=False)
def _reverse(refund: Refund) -> list[CommissionEntry]:
    refund_lines = list(RefundLine.objects.filter(refund_id=refund.pk).select_related("bill_line").order_by("id"))
    line_ids = sorted({item.bill_line_id for item in refund_lines})
    if not line_ids:
        return []
    # Locked in id order: two refunds of one line are worked out one after the other, each seeing what the
    # other gave back.
    earned = list(
        CommissionEntry.objects.filter(line_id__in=line_ids, kind=CommissionEntryKind.EARNED)
        .select_for_update(no_key=True)
        .order_by("id")
    )
    if not earned:
        return []
    given_back = list(
        CommissionEntry.objects.filter(line_id__in=line_ids, kind=CommissionEntryKind.REVERSED).values_list(
            "reverses_id", "refund_id", "basis", "amount", "quantity"
        )
    )
    if any(refund_id == refund.pk for _e, refund_id, _b, _a, _q in given_back):
        return []
    so_far: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for reverses_id, _refund_id, basis, amount, quantity in given_back:
        totals = so_far[reverses_id]
        totals[0] -= basis
        totals[1] -= amount
        totals[2] -= quantity
    earlier_refunds = {refund_id for _e, refund_id, _b, _a, _q in given_back}
    refunded: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    if earlier_refunds:
        for line_id, amount, quantity in (
            RefundLine.objects.filter(bill_line_id__in=line_ids, refund_id__in=earlier_refunds)
            .values_list("bill_line_id")
            .annotate(Sum("amount"), Sum("quantity"))
            .order_by()
        ):
            refunded[line_id] = [amount, quantity]
    for item in refund_lines:
        refunded[item.bill_line_id][0] += item.amount
        refunded[item.bill_line_id][1] += item.quantity

    lines = {item.bill_line_id: item.bill_line for item in refund_lines}
    occurred_at = refund.created_at
    month = _month_of(occurred_at)
    entries = []
    for entry in earned:
        line = lines[entry.line_id]
        amount_back, quantity_back = refunded[entry.line_id]
        if line.amount > 0:
            part, whole = min(amount_back, line.amount), line.amount
        else:
            part, whole = min(quantity_back, line.quantity), line.quantity
        basis_before, amount_before, quantity_before = so_far[entry.pk]
        basis = div_half_up(entry.basis * part, whole) - basis_before
        amount = div_half_up(entry.amount * part, whole) - amount_before
        quantity = min(quantity_back, entry.quantity) - quantity_before
        if not (basis or amount or quantity):
            continue
        entries.append(
            CommissionEntry(
                kind=CommissionEntryKind.REVERSED,
                staff_id=entry.staff_id,
                bill_id=entry.bill_id,
                line_id=entry.line_id,
                line_staff_id=entry.line_staff_id,
                location_id=entry.location_id,
                line_kind=entry.line_kind,
                share=entry.share,
                is_requested=entry.is_requested,
                quantity=-quantity,
                basis=-basis,
                amount=-amount,
                rule_id=entry.rule_id,
                method=entry.method,
                rate_bp=entry.rate_bp,
                unit_amount=entry.unit_amount,
                refund_id=refund.pk,
                reverses_id=entry.pk,
                occurred_at=occurred_at,
                month=month,
            )
        )
    return _insert(entries)


# --- the performance report's export -------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    content: bytes
    file_name: str


def staff_performance_export(
    *, date_from: datetime.date, date_to: datetime.date, location: Location | None, acting_user: User
) -> Export:
    """The staff performance report of a period as an XLSX workbook. Needs ``view_reports`` and
    ``export_data``; every export is audited (SEC-2)."""
    from apps.pos.selectors.commission import staff_performance, staff_performance_workbook

    _require(acting_user, "view_reports")
    _require(acting_user, "export_data")
    report = staff_performance(date_from=date_from, date_to=date_to, location=location)
    content = staff_performance_workbook(report)
    audit_record(
        action="pos.staff_performance.exported",
        actor=acting_user,
        data={
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "location": location.pk if location is not None else None,
            "rows": len(report.rows),
        },
    )
    return Export(content=content, file_name=f"staff-performance-{date_from.isoformat()}-{date_to.isoformat()}.xlsx")


__all__ = [
    "Export",
    "commission_record_for_bill",
    "commission_reverse_for_refund",
    "commission_rule_create",
    "commission_rule_deactivate",
    "commission_rule_update",
    "div_half_up",
    "shares_allocate",
    "staff_performance_export",
]
