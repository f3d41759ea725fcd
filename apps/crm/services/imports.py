"""Client import and export (CRM-7).

An import is a stored file (CSV or XLSX), a column mapping, a dry run ("check") and the
import itself. The check reports every bad row with the rules of ``client_build`` plus the
import's own (phone twice in the file, phone already a client, unknown tag or tier) and
writes nothing to clients; the import applies only after a check of the same mapping and
duplicate policy, saves each good row whole (the client with its tags) and skips the bad
ones. Files over ``CLIENT_IMPORT_INLINE_ROWS`` rows are checked and imported by a Celery
task (``apps.crm.tasks_imports``) that writes its progress to the job every batch.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxLengthValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from apps.core.db import current_schema
from apps.core.errors import ServiceError
from apps.core.models import User
from apps.core.roles import perm
from apps.core.services import audit_record
from apps.crm.errors import CrmError, crm_error
from apps.crm.models import (
    Client,
    ClientTag,
    DuplicatePolicy,
    Gender,
    ImportJob,
    ImportStatus,
    MembershipTier,
    SkinType,
    Source,
    Tag,
)
from apps.crm.services.clients import client_build, client_update
from apps.crm.services.import_spreadsheets import (
    Unreadable,
    cell_date,
    cell_text,
    detect_format,
    not_spreadsheet,
    scan,
    sheet_rows,
    too_large,
)

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

logger = logging.getLogger(__name__)

# --- the fields a column can fill ----------------------------------------------------------


@dataclass(frozen=True)
class ImportField:
    name: str
    label: str | _StrPromise
    # Header names that map to this field (space-separated), compared after _normalize_header.
    header_names: str
    required: bool = False

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(self.header_names.split())


IMPORT_FIELDS: tuple[ImportField, ...] = (
    ImportField(
        "name",
        pgettext_lazy("person", "name"),
        "姓名 名字 客户姓名 顾客姓名 会员姓名 客户名称 客户 name fullname clientname customername customer client",
        required=True,
    ),
    ImportField(
        "phone",
        gettext_lazy("phone"),
        "手机 手机号 手机号码 电话 电话号码 联系电话 联系方式 移动电话 会员手机 客户手机 "
        "phone mobile mobilephone mobilenumber cell cellphone telephone tel phonenumber",
        required=True,
    ),
    ImportField(
        "phone_alt",
        gettext_lazy("second phone"),
        "备用电话 备用手机 其他电话 第二电话 座机 secondphone altphone otherphone phone2",
    ),
    ImportField("gender", gettext_lazy("gender"), "性别 gender sex"),
    ImportField(
        "birthday",
        gettext_lazy("birthday"),
        "生日 出生日期 出生年月日 出生年月 公历生日 birthday dateofbirth dob birthdate",
    ),
    ImportField("anniversary", gettext_lazy("anniversary"), "纪念日 结婚纪念日 anniversary"),
    ImportField(
        "card_number",
        gettext_lazy("membership card number"),
        "会员卡号 卡号 会员号 会员编号 会员卡 cardnumber cardno membercard membershipcard membershipcardnumber card",
    ),
    ImportField("tier", gettext_lazy("tier"), "会员等级 等级 会员级别 卡类型 tier membershiptier level"),
    ImportField("wechat_id", gettext_lazy("WeChat ID"), "微信 微信号 微信id wechat wechatid weixin"),
    ImportField("email", gettext_lazy("e-mail"), "邮箱 电子邮箱 电子邮件 邮件 email mail"),
    ImportField(
        "id_number", gettext_lazy("ID number"), "身份证 身份证号 身份证号码 证件号 证件号码 idnumber idcard idno"
    ),
    ImportField("occupation", gettext_lazy("occupation"), "职业 工作 occupation job profession"),
    ImportField("address", gettext_lazy("address"), "地址 住址 联系地址 家庭住址 address"),
    ImportField("source", gettext_lazy("source"), "来源 客户来源 来源渠道 渠道 获客渠道 source channel referralsource"),
    ImportField("skin_type", gettext_lazy("skin type"), "肤质 皮肤类型 skintype skin"),
    ImportField("allergies", gettext_lazy("allergies"), "过敏 过敏史 过敏原 过敏物 allergies allergy"),
    ImportField("contraindications", gettext_lazy("contraindications"), "禁忌症 禁忌证 contraindications"),
    ImportField(
        "taboos",
        gettext_lazy("taboos and preferences"),
        "禁忌 喜好 偏好 禁忌喜好 taboos preferences tabooandpreferences",
    ),
    ImportField("notes", gettext_lazy("notes"), "备注 说明 备注信息 notes note remarks remark comments comment"),
    ImportField("tags", gettext_lazy("tags"), "标签 客户标签 会员标签 tags tag labels"),
)
FIELDS_BY_NAME: dict[str, ImportField] = {f.name: f for f in IMPORT_FIELDS}

_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")
_HEADER_NOISE = re.compile(r"[\s_\-*:：./、#]+")


def _normalize_header(header: str) -> str:
    """ "手机号（必填）" → "手机号", "Phone Number" → "phonenumber"."""
    return _HEADER_NOISE.sub("", _BRACKETED.sub("", header or "")).lower()


def mapping_guess(headers: list[str]) -> dict[str, int]:
    """{field: column index} guessed from the header names: exact names first, then the longest
    known name a header contains (客户手机号码 → phone). Each field and column at most once."""
    synonyms: dict[str, str] = {}
    for spec in IMPORT_FIELDS:
        for name in spec.headers:
            synonyms.setdefault(name, spec.name)
        for language in ("zh-hans", "en"):  # the labels our own export writes, in either language
            with translation.override(language):
                synonyms.setdefault(_normalize_header(str(spec.label)), spec.name)
    normalized = [_normalize_header(h) for h in headers]
    mapping: dict[str, int] = {}
    for index, header in enumerate(normalized):
        found = synonyms.get(header)
        if found and found not in mapping:
            mapping[found] = index
    taken = set(mapping.values())
    by_length = sorted(((s, f) for s, f in synonyms.items() if len(s) >= 2), key=lambda item: -len(item[0]))
    for index, header in enumerate(normalized):
        if index in taken or not header:
            continue
        for synonym, name in by_length:
            if name not in mapping and synonym in header and not synonym.isascii():
                mapping[name] = index
                taken.add(index)
                break
    return {name: mapping[name] for name in FIELDS_BY_NAME if name in mapping}


def mapping_clean(mapping: Mapping[str, Any], *, column_count: int) -> dict[str, int]:
    """The mapping with known fields and real columns only; name and phone mapped; each column once."""
    if not isinstance(mapping, Mapping):
        raise crm_error(CrmError.MAPPING_INVALID)
    out: dict[str, int] = {}
    for name, column in mapping.items():
        if column is None or column == "":
            continue
        if name not in FIELDS_BY_NAME or isinstance(column, bool):
            raise crm_error(CrmError.MAPPING_INVALID)
        try:
            index = int(column)
        except (TypeError, ValueError):
            raise crm_error(CrmError.MAPPING_INVALID)
        if not 0 <= index < column_count:
            raise crm_error(CrmError.MAPPING_INVALID)
        out[name] = index
    if any(spec.required and spec.name not in out for spec in IMPORT_FIELDS):
        raise crm_error(CrmError.MAPPING_INVALID)
    if len(set(out.values())) != len(out):
        raise crm_error(CrmError.MAPPING_INVALID)
    return {name: out[name] for name in FIELDS_BY_NAME if name in out}


def _job_data(job: ImportJob) -> bytes:
    with job.file.open("rb") as handle:
        return handle.read()


def _data_rows(job: ImportJob, data: bytes) -> Iterator[tuple[int, list[Any]]]:
    rows = sheet_rows(data, job.file_format)
    next(rows, None)  # the header
    return rows


# --- upload and mapping --------------------------------------------------------------------


def _require_manage_clients(acting_user: User | None) -> None:
    if acting_user is not None and not acting_user.has_perm(perm("manage_clients")):
        raise crm_error(CrmError.PERMISSION_DENIED)


def import_job_create(*, file: UploadedFile | IO[bytes], file_name: str = "", acting_user: User | None) -> ImportJob:
    """Store an uploaded client list and read its header. Only a CSV or XLSX (judged by the
    content) with at least one row under the header, within the size and row limits, is kept;
    a refused file leaves nothing behind. The mapping is guessed from the header names."""
    _require_manage_clients(acting_user)
    name = file_name or getattr(file, "name", "") or "clients"
    limit = settings.CLIENT_IMPORT_MAX_BYTES
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise too_large()
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(limit + 1)
    if len(data) > limit:
        raise too_large()
    if not data.strip():
        raise crm_error(CrmError.FILE_EMPTY)
    try:
        file_format = detect_format(data)
        header = scan(data, file_format)
    except Unreadable:
        raise not_spreadsheet()
    job = ImportJob(
        token=secrets.token_hex(16),
        file_name=get_valid_filename(name.replace("\\", "/").rsplit("/", 1)[-1])[:200] or "clients",
        file_format=file_format,
        headers=header.headers,
        total_rows=header.total_rows,
        created_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    job.mapping = mapping_guess(header.headers)
    job.file.save(f"{job.token}.{file_format}", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            job.save()
    except Exception:
        job.file.storage.delete(str(job.file.name))
        raise
    return job


def _lock(job: ImportJob) -> ImportJob:
    return ImportJob.objects.select_for_update().get(pk=job.pk)


def _busy() -> ServiceError:
    return ServiceError(
        CrmError.IMPORT_NOT_READY,
        _("This import is being checked or imported; wait until it has finished."),
        status=409,
    )


def _finished() -> ServiceError:
    return ServiceError(
        CrmError.IMPORT_NOT_READY,
        _("This import has finished. Upload the file again to import it once more."),
        status=409,
    )


_EDITABLE = (ImportStatus.UPLOADED, ImportStatus.VALIDATED, ImportStatus.FAILED)


def _check_editable(job: ImportJob) -> None:
    if job.status in (ImportStatus.VALIDATING, ImportStatus.IMPORTING):
        raise _busy()
    if job.status == ImportStatus.DONE:
        raise _finished()


@transaction.atomic
def import_job_configure(
    *,
    job: ImportJob,
    acting_user: User | None,
    mapping: Mapping[str, Any] | None = None,
    duplicate_policy: str | None = None,
) -> ImportJob:
    """Set the column mapping and the duplicate policy. A change undoes the last check, so the
    import always runs with the mapping and policy that were checked."""
    _require_manage_clients(acting_user)
    job = _lock(job)
    _check_editable(job)
    changed: list[str] = []
    if mapping is not None:
        cleaned = mapping_clean(mapping, column_count=len(job.headers))
        if cleaned != job.mapping:
            job.mapping = cleaned
            changed.append("mapping")
    if duplicate_policy is not None:
        if duplicate_policy not in DuplicatePolicy.values:
            raise ServiceError(CrmError.MAPPING_INVALID, _("Select a valid choice."), field="duplicate_policy")
        if duplicate_policy != job.duplicate_policy:
            job.duplicate_policy = duplicate_policy
            changed.append("duplicate_policy")
    if changed and job.status != ImportStatus.UPLOADED:
        _reset_report(job)
        job.status = ImportStatus.UPLOADED
        changed += ["status", *_REPORT_FIELDS]
    if changed:
        job.save(update_fields=changed)
    return job


_REPORT_FIELDS = [
    "processed_rows",
    "created_count",
    "updated_count",
    "skipped_count",
    "error_count",
    "errors",
    "failure",
    "finished_at",
]


def _reset_report(job: ImportJob) -> None:
    job.processed_rows = job.created_count = job.updated_count = job.skipped_count = job.error_count = 0
    job.errors = []
    job.failure = ""
    job.finished_at = None


# --- rows ----------------------------------------------------------------------------------

_GENDERS = {
    **dict.fromkeys("男 男性 先生 m male man".split(), Gender.MALE),
    **dict.fromkeys("女 女性 女士 小姐 f female woman".split(), Gender.FEMALE),
    **dict.fromkeys("未知 保密 不详 -".split(), ""),
}
_SOURCES = {
    **dict.fromkeys("到店 自然到店 进店 路过".split(), Source.WALK_IN),
    **dict.fromkeys("转介绍 介绍 朋友介绍 老带新".split(), Source.REFERRAL),
    **dict.fromkeys("美团 大众点评 点评".split(), Source.MEITUAN),
    **dict.fromkeys("微信 朋友圈 公众号".split(), Source.WECHAT),
    **dict.fromkeys("网上预约 线上预约".split(), Source.ONLINE_BOOKING),
    **dict.fromkeys("其他 其它".split(), Source.OTHER),
    "抖音": Source.DOUYIN,
    "小红书": Source.XIAOHONGSHU,
    "广告": Source.ADVERT,
}
_SKIN_TYPES = {
    **dict.fromkeys("中性 中性皮肤".split(), SkinType.NORMAL),
    **dict.fromkeys("干性 干性皮肤".split(), SkinType.DRY),
    **dict.fromkeys("油性 油性皮肤".split(), SkinType.OILY),
    **dict.fromkeys("混合 混合性 混合性皮肤".split(), SkinType.COMBINATION),
    **dict.fromkeys("敏感 敏感性 敏感肌".split(), SkinType.SENSITIVE),
}


def _choice_table(choices: Any, extra: Mapping[str, str]) -> dict[str, str]:
    """Words that stand for each choice: its value, its label in every language, and ``extra``."""
    table = {k.lower(): v for k, v in extra.items()}
    for value, label in choices:
        if not value:
            continue
        table.setdefault(str(value).lower(), value)
        for language in ("zh-hans", "en"):
            with translation.override(language):
                table.setdefault(str(label).lower(), value)
    return table


_TAG_SEPARATORS = re.compile(r"[,，、;；|/]+")


_MAX_LENGTHS = {
    name: Client._meta.get_field(name).max_length  # type: ignore[union-attr]
    for name in ("wechat_id", "email", "occupation", "address", "card_number")
}


@dataclass(eq=False)  # rows are told apart by identity
class _Row:
    number: int
    client: Client | None = None
    tags: list[Tag] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # the cleaned values, for filling in a match
    problems: list[dict[str, Any]] = field(default_factory=list)


class _Reader:
    """Turns the cells of one row into a validated, unsaved client, or the row's problems."""

    def __init__(self, job: ImportJob, acting_user: User | None) -> None:
        self.mapping: dict[str, int] = dict(job.mapping)
        self.headers: list[str] = list(job.headers)
        self.acting_user = acting_user
        self.tags = {t.name.lower(): t for t in Tag.objects.all()}
        self.tiers = {t.name.lower(): t for t in MembershipTier.objects.all()}
        self.genders = _choice_table(Gender.choices, _GENDERS)
        self.sources = _choice_table(Source.choices, _SOURCES)
        self.skin_types = _choice_table(SkinType.choices, _SKIN_TYPES)
        self.phone_rows: dict[str, int] = {}  # phone hash -> first row with it
        self.card_rows: dict[str, int] = {}

    def column(self, name: str | None) -> str:
        if name in self.mapping:
            index = self.mapping[name]
            return self.headers[index] if index < len(self.headers) else ""
        return ""

    def problem(self, row: _Row, name: str | None, message: str, kind: str = "error") -> None:
        row.problems.append(
            {"row": row.number, "column": self.column(name), "field": name or "", "message": str(message), "kind": kind}
        )

    def read(self, number: int, cells: list[Any]) -> _Row:
        row = _Row(number=number)
        raw = {name: (cells[index] if index < len(cells) else None) for name, index in self.mapping.items()}
        values: dict[str, Any] = {}
        for name, value in raw.items():
            text = cell_text(value)
            if name in ("birthday", "anniversary"):
                try:
                    values[name] = cell_date(value)
                except (ValueError, OverflowError):
                    self.problem(row, name, _("Enter a valid date."))
            elif name == "gender":
                values[name] = self.genders.get(text.lower(), text)
            elif name == "source":
                values[name] = self.sources.get(text.lower(), text)
            elif name == "skin_type":
                values[name] = self.skin_types.get(text.lower(), text)
            elif name == "tags":
                self._tags(row, text)
            elif name == "tier":
                if text:
                    tier = self.tiers.get(text.lower())
                    if tier is None:
                        self.problem(row, name, f"{crm_error(CrmError.UNKNOWN_TIER).message} ({text})")
                    else:
                        values[name] = tier
            else:
                values[name] = text
        self._lengths(row, values)
        if values.get("email"):
            try:
                validate_email(values["email"])
            except ValidationError as exc:
                self.problem(row, "email", exc.messages[0])
                values.pop("email")
        if not values.get("phone"):
            self.problem(row, "phone", crm_error(CrmError.INVALID_PHONE).message)
        name = values.pop("name", "")
        try:
            client = client_build(name=name, acting_user=self.acting_user, **values)
        except ServiceError as error:
            for field_name, messages in (error.errors or {None: [error.message]}).items():  # type: ignore[dict-item]
                for message in messages:
                    self.problem(row, field_name, message)
            client = None
        if client is not None:
            self._claim(row, client)
        row.problems.sort(key=lambda p: self.mapping.get(p["field"], len(self.headers)))  # left to right
        if client is not None and not row.problems:
            row.client = client
            row.values = {k: getattr(client, k) if k != "tier" else v for k, v in values.items()}
        return row

    def _tags(self, row: _Row, text: str) -> None:
        for tag_name in (t.strip() for t in _TAG_SEPARATORS.split(text)):
            if not tag_name:
                continue
            tag = self.tags.get(tag_name.lower())
            if tag is None:
                self.problem(row, "tags", f"{crm_error(CrmError.UNKNOWN_TAG).message} ({tag_name})")
            elif tag.rule:
                self.problem(row, "tags", f"{crm_error(CrmError.AUTOMATIC_TAG).message} ({tag.name})")
            elif tag not in row.tags:
                row.tags.append(tag)

    def _lengths(self, row: _Row, values: dict[str, Any]) -> None:
        for name, limit in _MAX_LENGTHS.items():
            value = values.get(name)
            if (
                isinstance(value, str)
                and limit
                and len(value.replace(" ", "") if name == "card_number" else value) > limit
            ):
                try:
                    MaxLengthValidator(limit)(value)
                except ValidationError as exc:
                    self.problem(row, name, exc.messages[0])
                values.pop(name)

    def _claim(self, row: _Row, client: Client) -> None:
        """The first row with a phone (or card number) owns it; later rows with it are errors."""
        first = self.phone_rows.setdefault(client.phone_hash, row.number)
        if first != row.number:
            self.problem(row, "phone", _("The same phone number is already on row %(row)s.") % {"row": first})
        if client.card_number:
            first = self.card_rows.setdefault(client.card_number.lower(), row.number)
            if first != row.number:
                self.problem(row, "card_number", _("The same card number is already on row %(row)s.") % {"row": first})


# --- check and import ----------------------------------------------------------------------


@dataclass
class _Tally:
    processed: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: int = 0  # bad rows
    problems: list[dict[str, Any]] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        return {
            "processed_rows": self.processed,
            "created_count": self.created,
            "updated_count": self.updated,
            "skipped_count": self.skipped,
            "error_count": self.errors,
        }


def _batches(rows: Iterator[tuple[int, list[Any]]], size: int) -> Iterator[list[tuple[int, list[Any]]]]:
    batch: list[tuple[int, list[Any]]] = []
    for item in rows:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _existing_by_phone(hashes: set[str], *, full: bool) -> dict[str, Client]:
    if not hashes:
        return {}
    clients = Client.objects.filter(is_active=True, phone_hash__in=hashes)
    if not full:
        clients = clients.only("id", "phone_hash")
    return {c.phone_hash: c for c in clients}


def _card_owners(cards: set[str]) -> dict[str, int]:
    if not cards:
        return {}
    return dict(
        Client.objects.filter(is_active=True)
        .annotate(card=Lower("card_number"))
        .filter(card__in=cards)
        .values_list("card", "id")
    )


def _fills(row: _Row, existing: Client) -> dict[str, Any]:
    """Fields the row has and the existing client lacks (a match is only filled in, never overwritten)."""
    out: dict[str, Any] = {}
    for name, value in row.values.items():
        if name in ("name", "phone") or value in ("", None):
            continue
        current = existing.tier_id if name == "tier" else getattr(existing, name)
        if current in ("", None):
            out[name] = value
    return out


def _notice(reader: _Reader, row: _Row, *, policy: str, done: bool) -> dict[str, Any]:
    if policy == DuplicatePolicy.UPDATE:
        message = (
            _("Already a client: blank fields were filled in.")
            if done
            else _("Already a client: blank fields will be filled in.")
        )
        kind = "update"
    else:
        message = _("Already a client: skipped.") if done else _("Already a client: will be skipped.")
        kind = "skip"
    return {"row": row.number, "column": reader.column("phone"), "field": "phone", "message": message, "kind": kind}


def _classify(
    reader: _Reader, rows: list[_Row], policy: str
) -> tuple[list[_Row], list[tuple[_Row, Client]], list[_Row]]:
    """Split valid rows into new clients, matches to fill in, and matches to skip (by phone);
    a new client whose card number another client holds becomes a bad row."""
    existing = _existing_by_phone({r.client.phone_hash for r in rows if r.client}, full=policy == "update")
    new: list[_Row] = []
    matched: list[tuple[_Row, Client]] = []
    skipped: list[_Row] = []
    for row in rows:
        assert row.client is not None
        match = existing.get(row.client.phone_hash)
        if match is None:
            new.append(row)
        elif policy == DuplicatePolicy.UPDATE:
            matched.append((row, match))
        else:
            skipped.append(row)
    cards = {r.client.card_number.lower() for r in new if r.client and r.client.card_number}
    cards |= {r.values["card_number"].lower() for r, m in matched if "card_number" in _fills(r, m)}
    owners = _card_owners(cards)
    for row in list(new):
        assert row.client is not None
        if row.client.card_number and row.client.card_number.lower() in owners:
            reader.problem(row, "card_number", crm_error(CrmError.DUPLICATE_CARD_NUMBER).message)
            new.remove(row)
    for row, match in list(matched):
        card = _fills(row, match).get("card_number", "").lower()
        if card and owners.get(card, match.pk) != match.pk:
            reader.problem(row, "card_number", crm_error(CrmError.DUPLICATE_CARD_NUMBER).message)
            matched.remove((row, match))
    return new, matched, skipped


def _insert(rows: list[_Row], acting_user: User | None) -> list[_Row]:
    """Save new clients with their tags in one statement each; return the rows saved.

    The partial unique indexes on phone and card number are the backstop: when another
    import or the front desk adds the same phone between our look-up and our insert, the
    insert fails as a whole, so the conflicting rows are taken out (they are found again by
    the caller) and the rest inserted again."""
    pending = list(rows)
    for _attempt in range(3):
        if not pending:
            return []
        try:
            with transaction.atomic():
                Client.objects.bulk_create([r.client for r in pending if r.client is not None])
                _add_tags([(r.client, r.tags) for r in pending], acting_user)
            return pending
        except IntegrityError:
            for row in pending:  # bulk_create may have stamped primary keys before failing
                assert row.client is not None
                row.client.pk = None
                row.client._state.adding = True
            taken = set(_existing_by_phone({r.client.phone_hash for r in pending if r.client}, full=False))
            cards = _card_owners({r.client.card_number.lower() for r in pending if r.client and r.client.card_number})
            pending = [
                r
                for r in pending
                if r.client is not None
                and r.client.phone_hash not in taken
                and r.client.card_number.lower() not in cards
            ]
    saved: list[_Row] = []
    for row in pending:  # still failing: one by one, so one odd row cannot sink the rest
        try:
            with transaction.atomic():
                assert row.client is not None
                row.client.save(force_insert=True)
                _add_tags([(row.client, row.tags)], acting_user)
            saved.append(row)
        except IntegrityError:
            assert row.client is not None
            row.client.pk = None
            row.client._state.adding = True
    return saved


def _add_tags(pairs: list[tuple[Client | None, list[Tag]]], acting_user: User | None) -> None:
    by = acting_user if acting_user is not None and acting_user.pk else None
    ClientTag.objects.bulk_create(
        [ClientTag(client=client, tag=tag, created_by=by) for client, tags in pairs if client for tag in tags],
        ignore_conflicts=True,
    )


def _process(job: ImportJob, acting_user: User | None, *, write: bool, on_batch: Callable[[_Tally], None]) -> _Tally:
    """Read, validate and classify every row in batches; with ``write``, save each batch."""
    reader = _Reader(job, acting_user)
    tally = _Tally()
    policy = job.duplicate_policy
    data = _job_data(job)
    try:
        for batch in _batches(_data_rows(job, data), settings.CLIENT_IMPORT_BATCH_SIZE):
            rows = [reader.read(number, cells) for number, cells in batch]
            with transaction.atomic():
                good = [r for r in rows if not r.problems]
                new, matched, skipped = _classify(reader, good, policy)
                if write:
                    saved = _insert(new, acting_user)
                    saved_ids = {id(r) for r in saved}
                    lost = [r for r in new if id(r) not in saved_ids]
                    if lost:  # taken by a concurrent insert since our look-up: classify again
                        for r in lost:
                            r.problems.clear()
                        again_new, again_matched, again_skipped = _classify(reader, lost, policy)
                        for r in again_new:
                            reader.problem(r, "phone", crm_error(CrmError.DUPLICATE_PHONE).message)
                        matched += again_matched
                        skipped += again_skipped
                    new = saved
                    matched = [(r, m) for r, m in matched if _fill_in(reader, r, m, acting_user)]
                tally.created += len(new)
                tally.updated += len(matched)
                tally.skipped += len(skipped)
                notices = {r.number: _notice(reader, r, policy=policy, done=write) for r, _m in matched}
                notices |= {r.number: _notice(reader, r, policy=policy, done=write) for r in skipped}
                for row in rows:
                    if row.problems:
                        tally.errors += 1
                        tally.problems += row.problems
                    elif row.number in notices:
                        tally.problems.append(notices[row.number])
                tally.processed += len(rows)
                on_batch(tally)
    except Unreadable:
        raise not_spreadsheet()
    return tally


def _fill_in(reader: _Reader, row: _Row, match: Client, acting_user: User | None) -> bool:
    """Fill in the blank fields of the client already holding the phone, and add the row's tags.
    All or nothing for the row: on a refusal the row becomes a bad row."""
    try:
        with transaction.atomic():
            locked = Client.objects.select_for_update().get(pk=match.pk)
            fills = _fills(row, locked)
            if fills:
                client_update(client=locked, acting_user=acting_user, **fills)
            _add_tags([(locked, row.tags)], acting_user)
    except ServiceError as error:
        for field_name, messages in (error.errors or {None: [error.message]}).items():  # type: ignore[dict-item]
            for message in messages:
                reader.problem(row, field_name, message)
        return False
    return True


def _save_progress(job: ImportJob, tally: _Tally) -> None:
    ImportJob.objects.filter(pk=job.pk).update(**tally.fields())


def _start(job: ImportJob, *, allowed: tuple[str, ...], status: str, error: Callable[[], ServiceError]) -> ImportJob:
    job = _lock(job)
    if job.status not in allowed:
        if job.status in (ImportStatus.VALIDATING, ImportStatus.IMPORTING):
            raise _busy()
        if job.status == ImportStatus.DONE:
            raise _finished()
        raise error()
    _reset_report(job)
    job.status = status
    job.save(update_fields=["status", *_REPORT_FIELDS])
    return job


def _runs_inline(job: ImportJob) -> bool:
    return job.total_rows <= settings.CLIENT_IMPORT_INLINE_ROWS


def _queue(task_name: str, job: ImportJob, acting_user: User | None) -> None:
    from apps.crm import tasks_imports as tasks

    task = {"check": tasks.import_check, "run": tasks.import_run}[task_name]
    # Bind the salon now: the commit hook may run after the connection has moved to another schema.
    schema = current_schema()
    args = [job.pk, acting_user.pk if acting_user is not None and acting_user.pk else None]
    transaction.on_commit(lambda: task.apply_async(args=args, headers={"_schema_name": schema}))


def import_job_check(*, job: ImportJob, acting_user: User | None) -> ImportJob:
    """Start the dry run: every row is validated and classified, nothing is written to clients.
    Small files are checked at once; larger ones by a task (the job shows its progress)."""
    _require_manage_clients(acting_user)
    if not job.mapping:
        raise crm_error(CrmError.MAPPING_INVALID)
    mapping_clean(job.mapping, column_count=len(job.headers))
    with transaction.atomic():
        job = _start(job, allowed=_EDITABLE, status=ImportStatus.VALIDATING, error=_busy)
        if not _runs_inline(job):
            _queue("check", job, acting_user)
            return job
    return import_job_check_execute(job_id=job.pk, acting_user=acting_user)


def import_job_check_execute(*, job_id: int, acting_user: User | None) -> ImportJob:
    """The dry run itself (inline or in the task). Writes only the job's report."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportStatus.VALIDATING:
        return job
    try:
        tally = _process(job, acting_user, write=False, on_batch=lambda t: _save_progress(job, t))
    except Exception as exc:
        return _fail(job, exc)
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALIDATING).update(
        status=ImportStatus.VALIDATED, errors=tally.problems, finished_at=timezone.now(), **tally.fields()
    )
    job.refresh_from_db()
    return job


def import_job_run(*, job: ImportJob, acting_user: User | None) -> ImportJob:
    """Start the import of a checked file (the mapping and policy cannot have changed since:
    changing them undoes the check). Small files are imported at once, larger ones by a task."""
    _require_manage_clients(acting_user)
    with transaction.atomic():
        job = _start(
            job,
            allowed=(ImportStatus.VALIDATED,),
            status=ImportStatus.IMPORTING,
            error=lambda: crm_error(CrmError.IMPORT_NOT_READY),
        )
        if not _runs_inline(job):
            _queue("run", job, acting_user)
            return job
    return import_job_run_execute(job_id=job.pk, acting_user=acting_user)


def import_job_run_execute(*, job_id: int, acting_user: User | None) -> ImportJob:
    """The import itself (inline or in the task): batch by batch, each batch committed with its
    progress, each row whole or not at all; audited with its counts."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportStatus.IMPORTING:
        return job
    try:
        tally = _process(job, acting_user, write=True, on_batch=lambda t: _save_progress(job, t))
    except Exception as exc:
        return _fail(job, exc)
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.DONE, errors=tally.problems, finished_at=timezone.now(), **tally.fields()
        )
        job.refresh_from_db()
        audit_record(
            action="clients.import",
            actor=acting_user,
            target=job,
            data={
                "file": job.file_name,
                "rows": job.total_rows,
                "created": tally.created,
                "updated": tally.updated,
                "skipped": tally.skipped,
                "errors": tally.errors,
            },
        )
    return job


def _fail(job: ImportJob, exc: Exception) -> ImportJob:
    if isinstance(exc, ServiceError):
        failure = exc.message
    else:
        logger.exception("client import %s failed", job.pk)
        failure = _("The import stopped because of an unexpected error; rows saved before it stay saved.")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, failure=failure, finished_at=timezone.now())
    job.refresh_from_db()
    return job
