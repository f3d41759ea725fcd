"""CRM-7: client import services — refused files, the dry run's report, the import, de-duplication."""

from __future__ import annotations

import csv
import datetime
import io
import threading
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import translation
from django_tenants.utils import schema_context
from openpyxl import Workbook

from apps.core.crypto import search_hash
from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.crm.errors import CrmError
from apps.crm.models import Client, ClientTag, ImportJob, ImportStatus
from apps.crm.services import imports as services
from apps.crm.services.clients import client_create
from apps.crm.services.tags import tag_create, tier_create
from tests.fixtures import make_staff, owner_of

HEADER = ["姓名", "手机号", "性别", "生日", "标签", "备注"]
INVALID_PHONE = "Enter a mainland mobile number (11 digits) or an international number starting with +."


@pytest.fixture(autouse=True)
def _english_and_own_media(settings: Any, tmp_path: Any) -> Iterator[None]:
    settings.MEDIA_ROOT = str(tmp_path)
    with translation.override("en"):
        yield


def csv_upload(rows: list[list[Any]], *, encoding: str = "utf-8", name: str = "clients.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), content_type="text/csv")


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_upload(rows: list[list[Any]], *, name: str = "clients.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, xlsx_bytes(rows))


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def stored_files(schema: str) -> list[str]:
    folder = f"salons/{schema}/imports"
    return default_storage.listdir(folder)[1] if default_storage.exists(folder) else []


def checked(rows: list[list[Any]], user: Any, *, policy: str | None = None, **options: Any) -> ImportJob:
    job = services.import_job_create(file=csv_upload(rows, **options), acting_user=user)
    if policy:
        job = services.import_job_configure(job=job, acting_user=user, duplicate_policy=policy)
    return services.import_job_check(job=job, acting_user=user)


def problems(job: ImportJob) -> list[tuple[int, str, str, str]]:
    return [(p["row"], p["column"], p["kind"], p["message"]) for p in job.errors]


# --- upload ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_in_every_encoding_excel_writes_is_read(in_alpha, encoding):
    # given a CSV with Chinese headers and names in this encoding
    owner = owner_of(in_alpha)
    upload = csv_upload([HEADER, ["张三", "13800138000", "男", "1990-05-20", "", "老客户"]], encoding=encoding)
    # when
    job = services.import_job_create(file=upload, acting_user=owner)
    # then the header is read and the mapping guessed from the Chinese names
    assert job.file_format == "csv"
    assert job.headers == HEADER
    assert job.mapping == {"name": 0, "phone": 1, "gender": 2, "birthday": 3, "notes": 5, "tags": 4}
    assert job.total_rows == 1
    assert job.file.name == f"salons/{in_alpha.schema}/imports/{job.token}.csv"
    assert job.status == ImportStatus.UPLOADED
    job = services.import_job_run(job=services.import_job_check(job=job, acting_user=owner), acting_user=owner)
    client = Client.objects.get(phone_hash=search_hash("+8613800138000"))
    assert (client.name, client.gender, client.birthday, client.notes) == (
        "张三",
        "male",
        datetime.date(1990, 5, 20),
        "老客户",
    )


def test_mapping_is_guessed_from_english_and_decorated_headers(in_alpha):
    headers = ["Client Name", "Mobile", "Sex", "Date of birth", "Card No.", "WeChat", "Remarks", "客户手机号码(必填)"]
    assert services.mapping_guess(headers) == {
        "name": 0,
        "phone": 1,
        "gender": 2,
        "birthday": 3,
        "card_number": 4,
        "wechat_id": 5,
        "notes": 6,
    }
    assert services.mapping_guess(["序号", "会员姓名", "客户手机号码（必填）", "过敏史", "地址"]) == {
        "name": 1,
        "phone": 2,
        "address": 4,
        "allergies": 3,
    }


def _corrupt_zip() -> bytes:
    return xlsx_bytes([["姓名", "手机"], ["张三", "13800138000"]])[:600]


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def _broken_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("photo.xlsx", png_bytes, CrmError.FILE_NOT_SPREADSHEET),
        ("photo.csv", png_bytes, CrmError.FILE_NOT_SPREADSHEET),
        ("clients.xlsx", _corrupt_zip, CrmError.FILE_NOT_SPREADSHEET),
        ("clients.xlsx", _zip_without_workbook, CrmError.FILE_NOT_SPREADSHEET),
        ("clients.xlsx", _broken_workbook, CrmError.FILE_NOT_SPREADSHEET),
        ("old.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, CrmError.FILE_NOT_SPREADSHEET),
        ("binary.csv", lambda: bytes(range(256)) * 4, CrmError.FILE_NOT_SPREADSHEET),
        ("empty.csv", lambda: b"", CrmError.FILE_EMPTY),
        ("blank.csv", lambda: b"\r\n ,, \r\n", CrmError.FILE_EMPTY),
        ("header.csv", lambda: "姓名,手机号\r\n".encode(), CrmError.FILE_EMPTY),
        ("header.xlsx", lambda: xlsx_bytes([["姓名", "手机号"], [None, None]]), CrmError.FILE_EMPTY),
    ],
)
def test_a_file_that_is_not_a_client_list_is_refused_and_nothing_is_stored(in_alpha, name, content, code):
    # given
    owner = owner_of(in_alpha)
    before = stored_files(in_alpha.schema)
    # when
    with pytest.raises(ServiceError) as refused:
        services.import_job_create(file=SimpleUploadedFile(name, content()), acting_user=owner)
    # then a field error on the file, no job and no stored file
    assert refused.value.code == code
    assert list(refused.value.errors) == ["file"]
    assert ImportJob.objects.count() == 0
    assert stored_files(in_alpha.schema) == before


def test_files_over_the_size_or_row_limit_are_refused(in_alpha, settings):
    owner = owner_of(in_alpha)
    rows = [HEADER] + [[f"客户{i}", f"138001380{i:02d}", "", "", "", ""] for i in range(5)]
    settings.CLIENT_IMPORT_MAX_ROWS = 4
    with pytest.raises(ServiceError) as too_many:
        services.import_job_create(file=csv_upload(rows), acting_user=owner)
    assert too_many.value.code == CrmError.FILE_TOO_LARGE
    assert too_many.value.errors == {"file": ["The file has more than 4 rows; split it into smaller files."]}
    settings.CLIENT_IMPORT_MAX_ROWS = 5
    settings.CLIENT_IMPORT_MAX_BYTES = 100
    with pytest.raises(ServiceError) as too_big:
        services.import_job_create(file=csv_upload(rows), acting_user=owner)
    assert too_big.value.code == CrmError.FILE_TOO_LARGE
    assert too_big.value.errors == {"file": ["The file is larger than 100\xa0bytes."]}
    assert ImportJob.objects.count() == 0
    assert stored_files(in_alpha.schema) == []
    settings.CLIENT_IMPORT_MAX_BYTES = 10_000
    assert services.import_job_create(file=csv_upload(rows), acting_user=owner).total_rows == 5


def test_staff_without_manage_clients_cannot_upload(in_alpha):
    technician = make_staff(in_alpha, role="technician", username="tech")
    with schema_context(in_alpha.schema), pytest.raises(ServiceError) as denied:
        services.import_job_create(file=csv_upload([HEADER, ["张三", "13800138000"]]), acting_user=technician)
    assert denied.value.code == CrmError.PERMISSION_DENIED
    assert ImportJob.objects.count() == 0


# --- mapping --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mapping",
    [
        {"name": 0},  # no phone
        {"phone": 1},  # no name
        {"name": 0, "phone": 0},  # one column twice
        {"name": 0, "phone": 1, "notes": 9},  # no such column
        {"name": 0, "phone": 1, "salary": 2},  # no such field
        {"name": 0, "phone": "x"},
    ],
)
def test_mapping_needs_name_and_phone_and_each_column_once(in_alpha, mapping):
    owner = owner_of(in_alpha)
    job = services.import_job_create(file=csv_upload([HEADER, ["张三", "13800138000"]]), acting_user=owner)
    with pytest.raises(ServiceError) as refused:
        services.import_job_configure(job=job, acting_user=owner, mapping=mapping)
    assert refused.value.code == CrmError.MAPPING_INVALID
    job.refresh_from_db()
    assert job.mapping == {"name": 0, "phone": 1, "gender": 2, "birthday": 3, "notes": 5, "tags": 4}


# --- the check --------------------------------------------------------------------------------


def test_check_reports_every_bad_row_with_its_row_column_and_reason_and_writes_no_client(in_alpha, beta):
    # given tags, a client already holding a phone, and the same phone in the other salon
    owner = owner_of(in_alpha)
    tag_create(name="VIP", acting_user=None)
    tag_create(name="老客户", acting_user=None)
    client_create(name="老王", phone="13900000009", acting_user=owner)
    with schema_context(beta.schema):
        client_create(name="Beta", phone="13900000010", acting_user=None)
    rows = [
        HEADER,
        ["张三", "13800138000", "男", "1990-05-20", "VIP、老客户", ""],  # 2 good
        ["李四", "12345", "女", "", "", ""],  # 3 invalid phone
        ["王五", "138 0013 8000", "女", "", "", ""],  # 4 same phone as row 2
        ["赵六", "13800138003", "", "2999-01-01", "", ""],  # 5 future birthday
        ["孙七", "13800138004", "", "", "VIP，金卡", ""],  # 6 unknown tag
        ["周八", "13800138005", "", "1990-02-30", "", ""],  # 7 no such date
        ["", "13800138006", "", "", "", ""],  # 8 no name
        ["吴九", "", "", "", "", ""],  # 9 no phone
        ["老王", "13900000009", "", "", "", ""],  # 10 already a client: skipped
        ["Beta", "13900000010", "外星", "", "", ""],  # 11 a client of the other salon only; unknown gender
        ["郑十", "13800138010", "F", "19851231", "", ""],  # 12 good
    ]
    clients_before = Client.objects.count()
    # when
    job = checked(rows, owner)
    # then
    assert job.status == ImportStatus.VALIDATED
    assert problems(job) == [
        (3, "手机号", "error", INVALID_PHONE),
        (4, "手机号", "error", "The same phone number is already on row 2."),
        (5, "生日", "error", "The birthday cannot be in the future."),
        (6, "标签", "error", "This tag does not exist. (金卡)"),
        (7, "生日", "error", "Enter a valid date."),
        (8, "姓名", "error", "Enter the client's name."),
        (9, "手机号", "error", INVALID_PHONE),
        (10, "手机号", "skip", "Already a client: will be skipped."),
        (11, "性别", "error", "Select a valid choice."),
    ]
    assert (job.total_rows, job.processed_rows) == (11, 11)
    assert (job.created_count, job.updated_count, job.skipped_count, job.error_count) == (2, 0, 1, 8)
    assert Client.objects.count() == clients_before
    assert ClientTag.objects.count() == 0


def test_a_row_with_several_problems_lists_each(in_alpha):
    owner = owner_of(in_alpha)
    job = checked([HEADER, ["", "1", "", "2999-01-01", "无此标签", ""]], owner)
    assert problems(job) == [
        (2, "姓名", "error", "Enter the client's name."),
        (2, "手机号", "error", INVALID_PHONE),
        (2, "生日", "error", "The birthday cannot be in the future."),
        (2, "标签", "error", "This tag does not exist. (无此标签)"),
    ]
    assert job.error_count == 1


def test_check_with_update_policy_reports_rows_that_will_fill_in_existing_clients(in_alpha):
    owner = owner_of(in_alpha)
    client_create(name="老王", phone="13900000009", acting_user=owner)
    job = checked([HEADER, ["老王", "13900000009", "男", "", "", "新备注"]], owner, policy="update")
    assert problems(job) == [(2, "手机号", "update", "Already a client: blank fields will be filled in.")]
    assert (job.created_count, job.updated_count, job.skipped_count, job.error_count) == (0, 1, 0, 0)
    assert Client.objects.get(name="老王").notes == ""


def test_xlsx_with_date_cells_numbers_and_serials(in_alpha):
    # given an XLSX whose birthdays are date cells, text and Excel serial numbers, and phones are numbers
    owner = owner_of(in_alpha)
    rows = [
        ["姓名", "手机", "生日", "会员卡号"],
        ["张三", 13800138000, datetime.date(1990, 5, 20), 10086],
        ["李四", 13800138001, datetime.datetime(1988, 1, 2, 0, 0), "A-1"],
        ["王五", 13800138002, "1990/5/20", None],
        ["赵六", 13800138003, 19900520, None],
        ["孙七", 13800138004, 33013, None],
        [None, None, None, None],
        ["周八", 13800138005, "1990年5月20日", None],
    ]
    job = services.import_job_create(file=xlsx_upload(rows), acting_user=owner)
    assert (job.file_format, job.total_rows) == ("xlsx", 6)
    job = services.import_job_check(job=job, acting_user=owner)
    assert job.errors == []
    # when
    job = services.import_job_run(job=job, acting_user=owner)
    # then every date reads as the spreadsheet shows it
    assert job.created_count == 6
    birthdays = dict(Client.objects.values_list("name", "birthday"))
    assert birthdays == {
        "张三": datetime.date(1990, 5, 20),
        "李四": datetime.date(1988, 1, 2),
        "王五": datetime.date(1990, 5, 20),
        "赵六": datetime.date(1990, 5, 20),
        "孙七": datetime.date(1990, 5, 20),
        "周八": datetime.date(1990, 5, 20),
    }
    assert Client.objects.get(name="张三").card_number == "10086"


def test_xlsx_rows_are_numbered_as_the_spreadsheet_shows_them(in_alpha):
    owner = owner_of(in_alpha)
    rows = [["姓名", "手机"], ["张三", "13800138000"], [None, None], [None, None], ["李四", "bad"]]
    job = services.import_job_check(
        job=services.import_job_create(file=xlsx_upload(rows), acting_user=owner), acting_user=owner
    )
    assert problems(job) == [(5, "手机", "error", INVALID_PHONE)]


# --- the import ------------------------------------------------------------------------------


def test_import_needs_a_check_of_the_same_mapping(in_alpha):
    owner = owner_of(in_alpha)
    job = services.import_job_create(file=csv_upload([HEADER, ["张三", "13800138000"]]), acting_user=owner)
    with pytest.raises(ServiceError) as not_checked:
        services.import_job_run(job=job, acting_user=owner)
    assert not_checked.value.code == CrmError.IMPORT_NOT_READY
    job = services.import_job_check(job=job, acting_user=owner)
    # a changed mapping or policy undoes the check
    job = services.import_job_configure(job=job, acting_user=owner, mapping={"name": 0, "phone": 1})
    assert (job.status, job.errors, job.created_count) == (ImportStatus.UPLOADED, [], 0)
    with pytest.raises(ServiceError):
        services.import_job_run(job=job, acting_user=owner)
    job = services.import_job_check(job=job, acting_user=owner)
    job = services.import_job_configure(job=job, acting_user=owner, duplicate_policy="update")
    assert job.status == ImportStatus.UPLOADED
    assert Client.objects.count() == 0
    # the same mapping again keeps the check
    job = services.import_job_check(job=job, acting_user=owner)
    job = services.import_job_configure(job=job, acting_user=owner, mapping={"name": 0, "phone": 1})
    assert job.status == ImportStatus.VALIDATED
    job = services.import_job_run(job=job, acting_user=owner)
    assert job.status == ImportStatus.DONE
    with pytest.raises(ServiceError) as again:
        services.import_job_run(job=job, acting_user=owner)
    assert again.value.status == 409
    assert Client.objects.count() == 1


def test_import_creates_whole_clients_skips_bad_rows_and_is_audited(in_alpha):
    # given
    owner = owner_of(in_alpha)
    vip = tag_create(name="VIP", acting_user=None)
    regular = tag_create(name="老客户", acting_user=None)
    gold = tier_create(name="金卡", rank=3, acting_user=None)
    rows = [
        [*HEADER, "会员等级", "来源"],
        ["张三", "13800138000", "男", "1990-05-20", "vip、老客户", "爱安静", "金卡", "美团"],
        ["李四", "13800138001", "女", "", "VIP,不存在", "", "", ""],  # unknown tag: no client at all
        ["王五", "13800138002", "女", "", "", "", "钻石卡", ""],  # unknown tier
        ["Alice Wang", "+447911123456", "female", "", "", "", "", "Referral"],
    ]
    job = checked(rows, owner)
    assert job.error_count == 2, job.errors
    # when
    job = services.import_job_run(job=job, acting_user=owner)
    # then
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.updated_count, job.skipped_count, job.error_count) == (2, 0, 0, 2)
    assert problems(job) == [
        (3, "标签", "error", "This tag does not exist. (不存在)"),
        (4, "会员等级", "error", "This membership tier does not exist. (钻石卡)"),
    ]
    zhang = Client.objects.get(name="张三")
    assert (zhang.phone, zhang.phone_last4, zhang.name_pinyin, zhang.name_initials) == (
        "+8613800138000",
        "8000",
        "zhangsan",
        "zs",
    )
    assert (zhang.gender, zhang.tier, zhang.source, zhang.notes, zhang.created_by) == (
        "male",
        gold,
        "meituan",
        "爱安静",
        owner,
    )
    assert (zhang.lunar_birthday_month, zhang.lunar_birthday_day) == (4, 26)
    assert set(zhang.tags.all()) == {vip, regular}
    alice = Client.objects.get(name="Alice Wang")
    assert (alice.phone, alice.source, alice.name_initials) == ("+447911123456", "referral", "aw")
    assert not Client.objects.filter(name__in=["李四", "王五"]).exists()
    assert ClientTag.objects.count() == 2
    entry = AuditEntry.objects.get(action="clients.import")
    assert entry.actor == owner
    assert entry.target_id == str(job.pk)
    assert entry.data == {"file": "clients.csv", "rows": 4, "created": 2, "updated": 0, "skipped": 0, "errors": 2}


def test_automatic_tags_cannot_be_given_by_an_import(in_alpha):
    owner = owner_of(in_alpha)
    tag_create(name="生日月", rule="birthday_month", acting_user=None)
    job = checked([HEADER, ["张三", "13800138000", "", "", "生日月", ""]], owner)
    assert problems(job) == [
        (2, "标签", "error", "This tag is set by its rule and cannot be given or removed by hand. (生日月)")
    ]
    services.import_job_run(job=job, acting_user=owner)
    assert Client.objects.count() == 0


def test_skip_policy_leaves_existing_clients_alone(in_alpha):
    owner = owner_of(in_alpha)
    tag_create(name="VIP", acting_user=None)
    existing = client_create(name="老王", phone="13900000009", acting_user=owner)
    job = checked([HEADER, ["王先生", "139 0000 0009", "男", "1980-01-01", "VIP", "新备注"]], owner)
    job = services.import_job_run(job=job, acting_user=owner)
    assert problems(job) == [(2, "手机号", "skip", "Already a client: skipped.")]
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 0, 1)
    existing.refresh_from_db()
    assert (existing.name, existing.gender, existing.birthday, existing.notes) == ("老王", "", None, "")
    assert Client.objects.count() == 1
    assert existing.tags.count() == 0


def test_update_policy_fills_in_blank_fields_only_and_adds_tags(in_alpha):
    # given a client with a name, a gender and notes, but no birthday
    owner = owner_of(in_alpha)
    vip = tag_create(name="VIP", acting_user=None)
    existing = client_create(name="老王", phone="13900000009", gender="female", notes="旧备注", acting_user=owner)
    rows = [[*HEADER, "职业"], ["王先生", "13900000009", "男", "1980-01-01", "VIP", "新备注", "教师"]]
    job = checked(rows, owner, policy="update")
    # when
    job = services.import_job_run(job=job, acting_user=owner)
    # then blank fields are filled in; nothing is overwritten
    assert problems(job) == [(2, "手机号", "update", "Already a client: blank fields were filled in.")]
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 1, 0)
    existing.refresh_from_db()
    assert (existing.name, existing.gender, existing.notes) == ("老王", "female", "旧备注")
    assert (existing.birthday, existing.occupation) == (datetime.date(1980, 1, 1), "教师")
    assert existing.lunar_birthday_month == 11  # derived fields follow the filled-in birthday
    assert list(existing.tags.all()) == [vip]
    assert Client.objects.count() == 1


def test_card_numbers_are_unique_in_the_file_and_among_clients(in_alpha):
    owner = owner_of(in_alpha)
    client_create(name="老王", phone="13900000009", card_number="VIP001", acting_user=owner)
    rows = [
        ["姓名", "手机", "卡号"],
        ["张三", "13800138000", "vip001"],
        ["李四", "13800138001", "A1"],
        ["王五", "13800138002", "a1"],
    ]
    job = services.import_job_run(job=checked(rows, owner), acting_user=owner)
    assert problems(job) == [
        (2, "卡号", "error", "Another client already has this card number."),
        (4, "卡号", "error", "The same card number is already on row 3."),
    ]
    assert sorted(Client.objects.values_list("name", flat=True)) == ["李四", "老王"]


def test_a_phone_added_by_someone_else_during_the_import_is_not_doubled(in_alpha, monkeypatch):
    """The partial unique index on the phone hash is the backstop: the front desk adds the same
    phone (committed, from another connection) between the import's look-up and its insert."""
    owner = owner_of(in_alpha)
    rows = [HEADER, ["张三", "13800138000"], ["李四", "13800138001"], ["王五", "13800138002"]]
    job = checked(rows, owner)
    real_insert = services._insert
    raced: list[int] = []

    def front_desk_adds_li_si() -> None:
        try:
            with schema_context(in_alpha.schema):
                raced.append(client_create(name="李四（前台）", phone="13800138001", acting_user=None).pk)
        finally:
            connection.close()

    def insert_after_the_race(rows: Any, acting_user: Any) -> Any:
        if not raced:
            thread = threading.Thread(target=front_desk_adds_li_si)
            thread.start()
            thread.join()
        return real_insert(rows, acting_user)

    monkeypatch.setattr(services, "_insert", insert_after_the_race)
    try:
        # when
        job = services.import_job_run(job=job, acting_user=owner)
        # then the batch did not fail, the raced row became a duplicate, the rest were created
        assert job.status == ImportStatus.DONE
        assert (job.created_count, job.skipped_count, job.error_count) == (2, 1, 0)
        assert problems(job) == [(3, "手机号", "skip", "Already a client: skipped.")]
        assert Client.objects.filter(phone_hash=search_hash("+8613800138001")).count() == 1
        assert sorted(Client.objects.values_list("name", flat=True)) == ["张三", "李四（前台）", "王五"]
    finally:

        def clean() -> None:
            try:
                with schema_context(in_alpha.schema):
                    Client.objects.filter(pk__in=raced).delete()
            finally:
                connection.close()

        cleaner = threading.Thread(target=clean)
        cleaner.start()
        cleaner.join()


# --- large files in the background -------------------------------------------------------------


def test_large_files_are_checked_and_imported_by_a_task_with_progress_in_batches(
    in_alpha, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # given a file over the inline limit
    settings.CLIENT_IMPORT_INLINE_ROWS = 3
    settings.CLIENT_IMPORT_BATCH_SIZE = 2
    owner = owner_of(in_alpha)
    rows = [HEADER] + [[f"客户{i}", f"138001380{i:02d}", "", "", "", ""] for i in range(5)] + [["坏", "1"]]
    job = services.import_job_create(file=csv_upload(rows), acting_user=owner)
    progress: list[int] = []
    real_save = services._save_progress
    monkeypatch.setattr(
        services, "_save_progress", lambda job, tally: (progress.append(tally.processed), real_save(job, tally))
    )
    # when the check starts, it is queued after commit and runs (eagerly here) in the salon's schema
    with django_capture_on_commit_callbacks(execute=False) as queued:
        job = services.import_job_check(job=job, acting_user=owner)
    assert (job.status, job.processed_rows) == (ImportStatus.VALIDATING, 0)
    assert len(queued) == 1
    queued[0]()
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count, job.error_count) == (ImportStatus.VALIDATED, 6, 5, 1)
    assert progress == [2, 4, 6]
    # and the import likewise
    progress.clear()
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_job_run(job=job, acting_user=owner)
    assert job.status == ImportStatus.IMPORTING  # what the request sees
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count, job.error_count) == (ImportStatus.DONE, 6, 5, 1)
    assert progress == [2, 4, 6]
    assert Client.objects.count() == 5


def test_the_task_runs_in_the_schema_named_by_its_message(alpha, beta):
    from apps.crm.tasks_imports import import_check, import_run

    # given a job in alpha, ready to check, while the connection is on the public schema
    owner = owner_of(alpha)
    with schema_context(alpha.schema):
        job = services.import_job_create(file=csv_upload([HEADER, ["张三", "13800138000"]]), acting_user=owner)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.VALIDATING)
    # when the tasks run with alpha's schema in their headers
    checked_result = import_check.apply_async(args=[job.pk, owner.pk], headers={"_schema_name": alpha.schema}).get()
    with schema_context(alpha.schema):
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.IMPORTING)
    run_result = import_run.apply_async(args=[job.pk, owner.pk], headers={"_schema_name": alpha.schema}).get()
    # then they worked on alpha's job and clients only
    assert checked_result == {"schema": alpha.schema, "job": job.pk, "status": "validated"}
    assert run_result == {"schema": alpha.schema, "job": job.pk, "status": "done"}
    with schema_context(alpha.schema):
        assert Client.objects.filter(name="张三").count() == 1
    with schema_context(beta.schema):
        assert Client.objects.count() == 0
        assert ImportJob.objects.count() == 0


def test_a_failure_during_the_import_marks_the_job_failed(in_alpha, monkeypatch):
    owner = owner_of(in_alpha)
    job = checked([HEADER, ["张三", "13800138000"]], owner)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "_insert", broken)
    job = services.import_job_run(job=job, acting_user=owner)
    assert job.status == ImportStatus.FAILED
    assert job.failure == "The import stopped because of an unexpected error; rows saved before it stay saved."
    assert Client.objects.count() == 0
    assert not AuditEntry.objects.filter(action="clients.import").exists()


@pytest.mark.parametrize(
    "day",
    [
        datetime.date(1990, 5, 20),
        datetime.date(2020, 5, 23),  # leap fourth month of 2020
        datetime.date(2023, 3, 22),  # first day of the leap second month of 2023
        datetime.date(2033, 12, 22),  # leap eleventh month of 2033
        datetime.date(1984, 1, 31),  # lunar new year's eve: the month of the previous lunar year
        datetime.date(1900, 1, 1),
    ],
)
def test_lunar_birthdays_computed_once_per_year_match_the_calendar(day):
    """The import converts thousands of birthdays; lunar_of reuses each year's months and must
    give exactly what lunar_python's own conversion gives."""
    from lunar_python import Solar

    from apps.crm.services.clients import lunar_of

    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    assert lunar_of(day) == (abs(lunar.getMonth()), lunar.getDay(), lunar.getMonth() < 0)
