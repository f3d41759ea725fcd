"""Writes of client records (CRM-1, CRM-2, CRM-4, SEC-4): every rule about a client's fields lives here."""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from lunar_python import Lunar, LunarYear, Solar
from pypinyin import Style, lazy_pinyin

from apps.core.crypto import search_hash
from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import Location, User
from apps.core.validators import normalize_phone
from apps.crm.errors import CrmError, crm_error, invalid_choice_message, too_long_message
from apps.crm.models import (
    Client,
    ClientTag,
    Gender,
    PurchaseKind,
    PurchaseLine,
    PurchaseSource,
    SkinType,
    Source,
    Tag,
    TagSource,
)

# Fields a person may set on a client; the rest are derived (spellings, hashes, lunar date) or system-kept.
EDITABLE_FIELDS = (
    "name",
    "gender",
    "phone",
    "phone_alt",
    "id_number",
    "wechat_id",
    "email",
    "birthday",
    "birthday_is_lunar",
    "anniversary",
    "occupation",
    "address",
    "source",
    "referrer",
    "preferred_staff",
    "home_location",
    "card_number",
    "tier",
    "notes",
    "skin_type",
    "allergies",
    "contraindications",
    "taboos",
)

_LATIN_WORD = re.compile(r"[A-Za-z]+")
_RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")
_OTHER_ID = re.compile(r"^[A-Z0-9]{6,20}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def name_spellings(name: str) -> tuple[str, str]:
    """(full pinyin, initials) of a name: 张三 → ("zhangsan", "zs"); Latin words count as
    syllables ("Alice Wang" → ("alicewang", "aw")); other characters are ignored."""
    syllables: list[str] = []
    for part in lazy_pinyin(name, style=Style.NORMAL, errors="default"):
        syllables.extend(w.lower() for w in _LATIN_WORD.findall(part))
    return "".join(syllables)[:300], "".join(s[0] for s in syllables)[:100]


@functools.lru_cache(maxsize=512)
def _lunar_months(solar_year: int) -> tuple[tuple[datetime.date, int, int], ...]:
    """(first solar day, day count, lunar month, negative for a leap month) of the lunar months
    lunar_python lists for a solar year. Computing a lunar year costs ~15 ms and the library
    caches only the last one, so converting birthdays of many years one by one (an import)
    recomputed it for nearly every client."""
    months = []
    for month in LunarYear.fromYear(solar_year).getMonths():
        first = Solar.fromJulianDay(month.getFirstJulianDay())
        months.append(
            (datetime.date(first.getYear(), first.getMonth(), first.getDay()), month.getDayCount(), month.getMonth())
        )
    return tuple(months)


def lunar_of(birthday: datetime.date) -> tuple[int, int, bool]:
    """Lunar (month, day, is leap month) of a solar date, from the lunar_python calendar
    (the month search of its ``Lunar.fromSolar``, over the year's months computed once)."""
    for first, day_count, month in _lunar_months(birthday.year):
        days = (birthday - first).days
        if 0 <= days < day_count:
            return abs(month), days + 1, month < 0
    lunar = Solar.fromYmd(birthday.year, birthday.month, birthday.day).getLunar()
    month = lunar.getMonth()
    return abs(month), lunar.getDay(), month < 0


def lunar_birthday_in(year_of_lunar_calendar: int, month: int, day: int) -> datetime.date:
    """Solar date of lunar month/day in the given lunar year. A birthday in a leap month is
    kept in the ordinary month of that number, and day 30 falls back to day 29 in short months."""
    for candidate in (day, day - 1) if day == 30 else (day,):
        try:
            solar = Lunar.fromYmd(year_of_lunar_calendar, month, candidate).getSolar()
        except Exception:  # noqa: S112 — lunar_python raises a bare Exception for a day the month lacks
            continue
        return datetime.date(solar.getYear(), solar.getMonth(), solar.getDay())
    raise ValueError(f"no lunar date {month}/{day} in {year_of_lunar_calendar}")


def _valid_id_number(value: str) -> bool:
    if _RESIDENT_ID.match(value):
        total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
        return _ID_CHECK[total % 11] == value[17]
    # Passports and other permits: letters and digits, 6 to 20 characters.
    return bool(_OTHER_ID.match(value)) and not value.isdigit()


def _clean(values: dict[str, Any], *, client: Client | None) -> dict[str, Any]:
    """Validate and normalise the given fields; raise one ServiceError with every field error."""
    errors: dict[str, list[str]] = {}
    codes: list[CrmError] = []

    def fail(code: CrmError, field: str | None = None) -> None:
        error = crm_error(code, field=field)
        codes.append(code)
        for name, messages in error.errors.items():
            errors.setdefault(name, []).extend(messages)

    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not client fields: {sorted(unknown)}")
    out: dict[str, Any] = {}
    for field, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        out[field] = value

    if "name" in out:
        out["name"] = re.sub(r"\s+", " ", out["name"] or "")
        if not out["name"]:
            fail(CrmError.NAME_REQUIRED)
        elif len(out["name"]) > 100:
            errors.setdefault("name", []).append(too_long_message(100))
            codes.append(CrmError.NAME_REQUIRED)
    for field in ("phone", "phone_alt"):
        if out.get(field):
            try:
                out[field] = normalize_phone(out[field])
            except ValidationError:
                fail(CrmError.INVALID_PHONE, field)
        elif field in out:
            out[field] = ""
    if out.get("phone") and out.get("phone_alt") and out["phone"] == out["phone_alt"]:
        out["phone_alt"] = ""
    if out.get("id_number"):
        out["id_number"] = out["id_number"].upper().replace(" ", "")
        if not _valid_id_number(out["id_number"]):
            fail(CrmError.INVALID_ID_NUMBER)
    elif "id_number" in out:
        out["id_number"] = ""
    today = salon_today()
    for field, code in (("birthday", CrmError.BIRTHDAY_IN_FUTURE), ("anniversary", CrmError.ANNIVERSARY_IN_FUTURE)):
        if field in out and out[field] in ("", None):
            out[field] = None
        elif field in out and out[field] > today:
            fail(code)
    if out.get("gender") is None and "gender" in out:
        out["gender"] = ""
    if out.get("gender") and out["gender"] not in Gender.values:
        errors.setdefault("gender", []).append(str(invalid_choice_message()))
    if out.get("source") and out["source"] not in Source.values:
        errors.setdefault("source", []).append(str(invalid_choice_message()))
    if out.get("skin_type") and out["skin_type"] not in SkinType.values:
        errors.setdefault("skin_type", []).append(str(invalid_choice_message()))
    for field in ("source", "skin_type"):
        if field in out and out[field] is None:
            out[field] = ""
    if out.get("card_number"):
        out["card_number"] = out["card_number"].replace(" ", "").upper()
    elif "card_number" in out:
        out["card_number"] = ""
    if out.get("referrer") is not None:
        referrer = out["referrer"]
        if client is not None and referrer.pk == client.pk:
            fail(CrmError.REFERRER_IS_SELF)
        elif not referrer.is_active:
            fail(CrmError.UNKNOWN_CLIENT, "referrer")
    if out.get("preferred_staff") is not None and not out["preferred_staff"].is_active:
        fail(CrmError.STAFF_INACTIVE, "preferred_staff")
    if errors:
        raise ServiceError(codes[0] if codes else CrmError.NAME_REQUIRED, next(iter(errors.values()))[0], errors=errors)
    return out


def _check_unique(out: dict[str, Any], *, client: Client | None) -> None:
    """Friendly duplicate errors before the write; the partial unique indexes are the backstop."""
    others = Client.objects.filter(is_active=True)
    if client is not None:
        others = others.exclude(pk=client.pk)
    if out.get("phone") and others.filter(phone_hash=search_hash(out["phone"])).exists():
        raise crm_error(CrmError.DUPLICATE_PHONE)
    if out.get("card_number") and others.filter(card_number=out["card_number"]).exists():
        raise crm_error(CrmError.DUPLICATE_CARD_NUMBER)


def _derive(client: Client) -> None:
    client.name_pinyin, client.name_initials = name_spellings(client.name)
    client.phone_hash = search_hash(client.phone)
    client.phone_last4 = re.sub(r"\D", "", client.phone)[-4:] if client.phone else ""
    client.phone_alt_hash = search_hash(client.phone_alt)
    client.id_number_hash = search_hash(client.id_number)
    if client.birthday:
        month, day, leap = lunar_of(client.birthday)
        client.lunar_birthday_month, client.lunar_birthday_day, client.lunar_birthday_is_leap_month = month, day, leap
    else:
        client.lunar_birthday_month = client.lunar_birthday_day = None
        client.lunar_birthday_is_leap_month = False
        client.birthday_is_lunar = False


def _save(client: Client, *, update_fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            client.save(update_fields=update_fields)
    except IntegrityError as exc:
        text = str(exc)
        if "client_phone_unique_active" in text:
            raise crm_error(CrmError.DUPLICATE_PHONE)
        if "client_card_number_unique_active" in text:
            raise crm_error(CrmError.DUPLICATE_CARD_NUMBER)
        raise


DERIVED_FIELDS = [
    "name_pinyin",
    "name_initials",
    "phone_hash",
    "phone_last4",
    "phone_alt_hash",
    "id_number_hash",
    "lunar_birthday_month",
    "lunar_birthday_day",
    "lunar_birthday_is_leap_month",
    "birthday_is_lunar",
    "updated_at",
]


def client_build(*, name: str, acting_user: User | None = None, **fields: Any) -> Client:
    """A validated, unsaved client with its derived fields (the import saves many at once)."""
    out = _clean({"name": name, **fields}, client=None)
    client = Client(created_by=acting_user if acting_user is not None and acting_user.pk else None, **out)
    _derive(client)
    return client


@transaction.atomic
def client_create(*, name: str, acting_user: User | None, tags: Iterable[Tag] = (), **fields: Any) -> Client:
    """Create a client. The phone (if any) must not belong to another active client; the
    birthday cannot be in the future; automatic tags cannot be given by hand."""
    client = client_build(name=name, acting_user=acting_user, **fields)
    _check_unique({"phone": client.phone, "card_number": client.card_number}, client=None)
    tags = list(tags)
    _check_manual_tags(tags)
    _save(client)
    ClientTag.objects.bulk_create(
        [ClientTag(client=client, tag=tag, created_by=client.created_by) for tag in tags], ignore_conflicts=True
    )
    return client


@transaction.atomic
def client_update(
    *, client: Client, acting_user: User | None, tags: Iterable[Tag] | None = None, **fields: Any
) -> Client:
    """Change the given fields of an active client (the rest stay as they are). ``tags``,
    when given, replaces the client's manual tags; automatic ones are left to their rules."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    if not client.is_active:
        raise crm_error(CrmError.CLIENT_INACTIVE)
    out = _clean(fields, client=client)
    _check_unique(out, client=client)
    if tags is not None:
        tags = list(tags)
        _check_manual_tags(tags)
    for field, value in out.items():
        setattr(client, field, value)
    _derive(client)
    _save(client, update_fields=[*out.keys(), *DERIVED_FIELDS])
    if tags is not None:
        _manual_tags_replace(client=client, tags=tags, acting_user=acting_user)
    return client


def _check_manual_tags(tags: list[Tag]) -> None:
    if any(tag.rule for tag in tags):
        raise crm_error(CrmError.AUTOMATIC_TAG, field="tags")


def _manual_tags_replace(*, client: Client, tags: list[Tag], acting_user: User | None) -> None:
    wanted = {tag.pk for tag in tags}
    current = set(client.client_tags.filter(source=TagSource.MANUAL).values_list("tag_id", flat=True))
    client.client_tags.filter(source=TagSource.MANUAL, tag_id__in=current - wanted).delete()
    ClientTag.objects.bulk_create(
        [
            ClientTag(client=client, tag_id=pk, created_by=acting_user if acting_user and acting_user.pk else None)
            for pk in sorted(wanted - current)
        ],
        ignore_conflicts=True,
    )


def client_next_birthday(client: Client, *, today: datetime.date | None = None) -> datetime.date | None:
    """The next date (today included) the client celebrates: the solar birthday, or for a
    lunar birthday the solar date of that lunar month/day in the coming lunar year."""
    if client.birthday is None:
        return None
    today = today or salon_today()
    if client.birthday_is_lunar and client.lunar_birthday_month and client.lunar_birthday_day:
        lunar_year = Solar.fromYmd(today.year, today.month, today.day).getLunar().getYear()
        for year in (lunar_year - 1, lunar_year, lunar_year + 1):
            date = lunar_birthday_in(year, client.lunar_birthday_month, client.lunar_birthday_day)
            if date >= today:
                return date
        return None
    for year in (today.year, today.year + 1):
        day = client.birthday.day
        if client.birthday.month == 2 and day == 29:
            day = 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
        date = datetime.date(year, client.birthday.month, day)
        if date >= today:
            return date
    return None


# What upper apps do when a spend is recorded (loyalty re-evaluates the client's tier), registered from
# their AppConfig.ready: crm never imports them. History brought in by import does not call them.
PurchaseHook = Callable[[PurchaseLine], None]
PURCHASE_HOOKS: list[PurchaseHook] = []


def purchase_hook_register(hook: PurchaseHook) -> None:
    if hook not in PURCHASE_HOOKS:
        PURCHASE_HOOKS.append(hook)


@transaction.atomic
def purchase_record(
    *,
    client: Client,
    occurred_at: datetime.datetime,
    item_name: str,
    amount: int,
    kind: str = PurchaseKind.SERVICE,
    quantity: int = 1,
    staff: User | None = None,
    staff_name: str = "",
    tender: str = "",
    location: Location | None = None,
    visit_reference: str = "",
    reference: str = "",
    source: str = PurchaseSource.TILL,
    note: str = "",
) -> PurchaseLine:
    """Add one line to a client's consumption history (CRM-4). Recording the same
    ``reference`` again returns the line already recorded instead of adding a second one."""
    if reference:
        existing = PurchaseLine.objects.filter(reference=reference).first()
        if existing is not None:
            return existing
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise crm_error(CrmError.INVALID_AMOUNT)
    if quantity < 1:
        raise crm_error(CrmError.INVALID_AMOUNT, field="quantity")
    if kind not in PurchaseKind.values:
        raise ServiceError(CrmError.INVALID_AMOUNT, invalid_choice_message(), field="kind")
    line = PurchaseLine(
        client=client,
        occurred_at=occurred_at,
        item_name=item_name.strip()[:200],
        amount=amount,
        kind=kind,
        quantity=quantity,
        staff=staff,
        staff_name=staff_name or (staff.name if staff is not None else ""),
        tender=tender,
        location=location,
        visit_reference=visit_reference,
        reference=reference,
        source=source,
        note=note[:200],
    )
    try:
        with transaction.atomic():
            line.save()
    except IntegrityError:
        # A concurrent recording of the same reference won: return that one.
        return PurchaseLine.objects.get(reference=reference)
    if source != PurchaseSource.IMPORT:
        for hook in PURCHASE_HOOKS:
            hook(line)
    return line


@transaction.atomic(savepoint=False)
def purchases_record(*, lines: list[PurchaseLine]) -> list[PurchaseLine]:
    """Add the lines of one sale (a paid bill, or its refund as negative lines) to the clients' histories
    in one INSERT. A line whose ``reference`` was recorded before is left out, so recording the sale again
    adds nothing. The purchase hooks run once per client of the sale, not once per line: with the client's
    first line that is not a top-up (else their first line), so loyalty evaluates a tier once per bill.
    Returns the lines written."""
    for line in lines:
        if not isinstance(line.amount, int) or isinstance(line.amount, bool):
            raise crm_error(CrmError.INVALID_AMOUNT)
        if line.quantity < 1:
            raise crm_error(CrmError.INVALID_AMOUNT, field="quantity")
        if line.kind not in PurchaseKind.values:
            raise ServiceError(CrmError.INVALID_AMOUNT, invalid_choice_message(), field="kind")
        line.item_name = line.item_name.strip()[:200]
        line.note = line.note[:200]
        if not line.staff_name and line.staff is not None:
            line.staff_name = line.staff.name
    references = [line.reference for line in lines if line.reference]
    recorded = set(PurchaseLine.objects.filter(reference__in=references).values_list("reference", flat=True))
    new = [line for line in lines if not line.reference or line.reference not in recorded]
    if not new:
        return []
    PurchaseLine.objects.bulk_create(new)
    if any(line.source != PurchaseSource.IMPORT for line in new):
        leading: dict[int, PurchaseLine] = {}
        for line in new:
            if line.source == PurchaseSource.IMPORT:
                continue
            first = leading.get(line.client_id)
            if first is None or (first.kind == PurchaseKind.TOP_UP and line.kind != PurchaseKind.TOP_UP):
                leading[line.client_id] = line
        for line in leading.values():
            for hook in PURCHASE_HOOKS:
                hook(line)
    return new
