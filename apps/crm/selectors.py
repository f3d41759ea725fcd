"""Reads of client records: search (CRM-8), the filtered list, the 360° summary and history (CRM-4)."""

from __future__ import annotations

import datetime
import itertools
import re
import statistics
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Length, Lower

from apps.core.crypto import search_hash
from apps.core.db import salon_timezone
from apps.core.validators import normalize_phone
from apps.crm.models import Client, ClientMerge, ClientTag, PurchaseKind, PurchaseLine, Tag

_SEPARATORS = re.compile(r"[\s\-+()]")
_LATIN = re.compile(r"^[A-Za-z][A-Za-z\s']*$")
_ID_LIKE = re.compile(r"^\d{17}[\dXx]$")


def search_condition(query: str) -> Q | None:
    """The condition that finds ``query`` among clients, chosen by its shape so that each
    branch is one index lookup (CRM-8):

    - four digits: the last four digits of the phone (or a card number),
    - a whole phone number: the keyed hash of the normalised number (phones are encrypted),
    - other digits: a card-number prefix,
    - an 18-character resident ID number: its keyed hash,
    - Latin letters: pinyin initials ("zs" for 张三), full pinyin ("zhangs") or a Latin name prefix,
    - Latin letters and digits ("VIP0012"): a card-number prefix or a name prefix,
    - anything else: a name prefix ("张" finds 张三).
    Full-width letters and digits (ＺＳ, １３８…, typed with a Chinese input method) count as
    their ASCII forms. ``%`` and ``_`` match only themselves. None when the query is empty.
    """
    query = unicodedata.normalize("NFKC", query or "").strip()
    if not query:
        return None
    compact = _SEPARATORS.sub("", query)
    if compact.isdigit():
        card = Q(card_number=compact) | Q(card_number__startswith=compact)
        if len(compact) == 4:
            return Q(phone_last4=compact) | Q(card_number=compact)
        if _ID_LIKE.match(compact):
            return Q(id_number_hash=search_hash(compact.upper())) | card
        if len(compact) >= 7:
            try:
                digest = search_hash(normalize_phone(query))
            except ValidationError:
                return card
            return Q(phone_hash=digest) | Q(phone_alt_hash=digest) | card
        return card
    if _ID_LIKE.match(compact):
        return Q(id_number_hash=search_hash(compact.upper()))
    if _LATIN.match(query):
        letters = re.sub(r"[\s']", "", query).lower()
        return (
            Q(name_initials__startswith=letters)
            | Q(name_pinyin__startswith=letters)
            | Q(name_lower__startswith=query.lower())
            | Q(card_number__startswith=compact.upper())
        )
    name = Q(name_lower__startswith=query.lower())
    if compact.isascii() and compact.isalnum():
        # Card numbers are stored without spaces and upper-cased (services.clients).
        return name | Q(card_number__startswith=query.replace(" ", "").upper())
    return name


def _searchable() -> QuerySet[Client]:
    return Client.objects.filter(is_active=True).annotate(name_lower=Lower("name"))


def client_search(*, query: str, limit: int = 20) -> list[Client]:
    """Up to ``limit`` active clients matching ``query``, the closest first (shortest
    initials, then name), with tier and tags loaded for the result list."""
    condition = search_condition(query)
    if condition is None:
        return []
    closest_first = (Length("name_initials"), "name_pinyin", "id")
    # Rank the matches on their ids, then load only the winners: a common surname (王 is ~7 % of
    # clients) matches thousands of rows, and sorting them with every column (encrypted phones,
    # notes) and the tier join costs several times the ranking itself.
    winners = _searchable().filter(condition).order_by(*closest_first).values("pk")[:limit]
    return list(
        Client.objects.filter(pk__in=Subquery(winners))
        .select_related("tier")
        .prefetch_related(_tags_prefetch())
        .order_by(*closest_first)
    )


def _tags_prefetch() -> Prefetch:
    return Prefetch("client_tags", queryset=ClientTag.objects.select_related("tag").order_by("tag__name"))


LIST_ORDERINGS = {
    "recent": ("-id",),
    "name": ("name_pinyin", "id"),
    "birthday": ("birthday", "id"),
}


def client_list_filtered(params: Mapping[str, Any]) -> QuerySet[Client]:
    """Active clients filtered by the list page's (and the API's) parameters: ``q``/``search``,
    ``tag``, ``tier``, ``source``, ``location``, ``alert`` (has a health alert),
    ``birthday_month`` and ``order`` (recent, name, birthday).

    Each row carries ``last_visit`` and ``total_spend`` as subqueries and its tags as one
    prefetch, so a page costs the same number of queries whatever its size.
    """
    qs = _searchable().select_related("tier")
    condition = search_condition(str(params.get("q") or params.get("search") or ""))
    if condition is not None:
        qs = qs.filter(condition)
    tag = _int(params.get("tag"))
    if tag is not None:
        qs = qs.filter(Exists(ClientTag.objects.filter(client=OuterRef("pk"), tag_id=tag)))
    tier = _int(params.get("tier"))
    if tier is not None:
        qs = qs.filter(tier_id=tier)
    if params.get("source"):
        qs = qs.filter(source=str(params["source"]))
    location = _int(params.get("location"))
    if location is not None:
        qs = qs.filter(home_location_id=location)
    if str(params.get("alert") or "") in ("1", "true", "on"):
        qs = qs.exclude(allergies="", contraindications="", taboos="")
    month = _int(params.get("birthday_month"))
    if month is not None and 1 <= month <= 12:
        qs = qs.filter(birthday__month=month)
    purchases = PurchaseLine.objects.filter(client=OuterRef("pk"))
    qs = qs.annotate(
        last_visit=Subquery(purchases.order_by("-occurred_at").values("occurred_at")[:1]),
        total_spend=Subquery(
            purchases.exclude(kind=PurchaseKind.TOP_UP)
            .order_by()
            .values("client")
            .annotate(total=Sum("amount"))
            .values("total")[:1]
        ),
    )
    order = LIST_ORDERINGS.get(str(params.get("order") or ""), LIST_ORDERINGS["recent"])
    return qs.prefetch_related(_tags_prefetch()).order_by(*order)


def _int(value: Any) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def client_get(*, pk: int, include_inactive: bool = False) -> Client | None:
    qs = Client.objects.select_related("tier", "referrer", "preferred_staff", "home_location", "merged_into", "photo")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.prefetch_related(_tags_prefetch()).filter(pk=pk).first()


@dataclass(frozen=True)
class ClientSummary:
    """Summary figures of the 360° page (CRM-4). Money in fen."""

    total_spend: int
    visits: int
    average_ticket: int
    first_visit: datetime.datetime | None
    last_visit: datetime.datetime | None
    median_days_between_visits: float | None
    referrals: int


def client_summary(*, client: Client) -> ClientSummary:
    """A visit is one bill (lines sharing a visit reference) or, for lines without one,
    one calendar day in the salon's time zone. Refund lines lower the spend, not the visits.
    Stored-value top-ups are not spend (what is bought with the stored value is), as in the tier rules."""
    tz = salon_timezone()
    visits: dict[str, datetime.datetime] = {}
    total = 0
    for occurred_at, reference, amount in (
        PurchaseLine.objects.filter(client=client)
        .exclude(kind=PurchaseKind.TOP_UP)
        .values_list("occurred_at", "visit_reference", "amount")
    ):
        total += amount
        if amount <= 0:
            continue
        key = reference or occurred_at.astimezone(tz).date().isoformat()
        if key not in visits or occurred_at < visits[key]:
            visits[key] = occurred_at
    times = sorted(visits.values())
    days = sorted({t.astimezone(tz).date() for t in times})
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    return ClientSummary(
        total_spend=total,
        visits=len(times),
        average_ticket=round(total / len(times)) if times else 0,
        first_visit=times[0] if times else None,
        last_visit=times[-1] if times else None,
        median_days_between_visits=float(statistics.median(gaps)) if gaps else None,
        referrals=Client.objects.filter(referrer=client, is_active=True).count(),
    )


def client_purchases(*, client: Client, params: Mapping[str, Any] | None = None) -> QuerySet[PurchaseLine]:
    """A client's consumption history, newest first, filtered by ``date_from``/``date_to``
    (salon dates), ``amount_min``/``amount_max`` (fen), ``staff`` and ``kind``."""
    params = params or {}
    qs = PurchaseLine.objects.filter(client=client).select_related("staff", "location")
    tz = salon_timezone()
    for key, lookup, end_of_day in (("date_from", "occurred_at__gte", False), ("date_to", "occurred_at__lt", True)):
        value = params.get(key)
        if value:
            try:
                day = datetime.date.fromisoformat(str(value))
            except ValueError:
                continue
            if end_of_day:
                day += datetime.timedelta(days=1)
            qs = qs.filter(**{lookup: datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)})
    amount_min, amount_max = _int(params.get("amount_min")), _int(params.get("amount_max"))
    if amount_min is not None:
        qs = qs.filter(amount__gte=amount_min)
    if amount_max is not None:
        qs = qs.filter(amount__lte=amount_max)
    staff = _int(params.get("staff"))
    if staff is not None:
        qs = qs.filter(staff_id=staff)
    if params.get("kind"):
        qs = qs.filter(kind=str(params["kind"]))
    return qs.order_by("-occurred_at", "-id")


def tag_list() -> QuerySet[Tag]:
    return Tag.objects.annotate(client_count=Count("client_tags", filter=Q(client_tags__client__is_active=True)))


def client_merges(*, client: Client) -> QuerySet[ClientMerge]:
    return (
        ClientMerge.objects.filter(Q(survivor=client) | Q(merged=client))
        .select_related("survivor", "merged", "merged_by", "reversed_by")
        .order_by("-id")
    )
