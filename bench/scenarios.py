"""The measurements. Import this module only after ``django.setup()`` (bench.run does)."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, cast
from unittest import mock

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import check_password, make_password
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.core.models import Location, User
from bench.results import RPS_SUBDOMAIN, MigrateRun, RpsRun, SignupRun, SignupSample
from tenants import provisioning, services
from tenants.models import PoolSchema, Salon

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "Qz7-lotus-Spa9"
API_PATH = "/api/v1/meta/"
METHODS = ("pool", "clone", "stock")

# django-tenants adds set_schema_to_public() to the connection at run time; the stubs do not know it.
tenant_db: Any = cast(Any, connection)

_phone_numbers = itertools.count(1)
_filler_numbers = itertools.count(1)


def log(message: str) -> None:
    print(f"    {message}", flush=True)


def signup_raw(subdomain: str) -> dict[str, Any]:
    return {
        "salon_name": f"Bench {subdomain}",
        "subdomain": subdomain,
        "owner_name": "Mei Lin",
        "owner_email": f"owner@{subdomain}.example.com",
        "owner_phone": f"+86138{next(_phone_numbers):08d}",
        "password": PASSWORD,
    }


def salon_count() -> int:
    tenant_db.set_schema_to_public()
    return Salon.objects.count()


def pool_count() -> int:
    tenant_db.set_schema_to_public()
    return PoolSchema.objects.count()


def salon_remove(salon: Salon) -> None:
    """Delete a sample salon (rows and schema) so every sample sees the same number of salons."""
    tenant_db.set_schema_to_public()
    with transaction.atomic():
        Salon.objects.filter(pk=salon.pk).delete()  # cascades to its Domain
        provisioning.schema_drop(salon.schema_name)


def pool_drain() -> None:
    tenant_db.set_schema_to_public()
    for name in list(PoolSchema.objects.values_list("schema_name", flat=True)):
        with transaction.atomic():
            PoolSchema.objects.filter(schema_name=name).delete()
            provisioning.schema_drop(name)


# --- setup -------------------------------------------------------------------


def migrate_fresh() -> float:
    """Public schema + template on the empty bench database (the same command a deploy runs)."""
    started = time.perf_counter()
    call_command("migrate_schemas", interactive=False, verbosity=0)
    tenant_db.set_schema_to_public()
    return time.perf_counter() - started


def fresh_connection() -> None:
    """Start on a new database connection (untimed), as a web or Celery worker does every CONN_MAX_AGE.

    Clones made earlier on the same PostgreSQL backend slow down every later clone on it (see
    docs/benchmarks.md), so each sample and each filler batch opens its own connection; the query
    here opens it so no timed figure pays for the connect.
    """
    connections.close_all()
    tenant_db.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def fill_to(total: int, batch: int = 5) -> tuple[int, float]:
    """Add filler salons until ``total`` exist: pool_refill in batches, then real signups taking pool schemas.

    Fillers are not measured, so their owners' password is hashed once (argon2, the same
    password) and reused: the fillers' owners can still log in.
    """
    started = time.perf_counter()
    made = 0
    password_hash = make_password(PASSWORD)
    with mock.patch.object(services, "make_password", lambda _password: password_hash):
        while (have := salon_count()) < total:
            step = min(total - have, batch)
            fresh_connection()
            provisioning.pool_refill(target=step)
            for _ in range(step):
                subdomain = RPS_SUBDOMAIN if have + made == 0 else f"fill-{next(_filler_numbers):04d}"
                result = services.salon_signup(raw=signup_raw(subdomain))
                if result.provisioned_by != "pool":
                    raise RuntimeError(f"filler {subdomain} was provisioned by {result.provisioned_by}, not pool")
                made += 1
            if (have + step) % 50 == 0 or have + step >= total:
                log(f"{have + step} salons ({time.perf_counter() - started:.0f} s)")
    return made, time.perf_counter() - started


def hash_costs(samples: int = 5) -> tuple[list[float], list[float]]:
    """argon2 make_password / check_password alone: part of every signup and login figure."""
    made: list[float] = []
    checked: list[float] = []
    for _ in range(samples):
        started = time.perf_counter()
        encoded = make_password(PASSWORD)
        made.append(time.perf_counter() - started)
        started = time.perf_counter()
        if not check_password(PASSWORD, encoded):
            raise RuntimeError("argon2 round trip failed")
        checked.append(time.perf_counter() - started)
    return made, checked


# --- (a) signup ----------------------------------------------------------------


@contextmanager
def _stock_provisioning() -> Iterator[None]:
    """django-tenants' stock path inside salon_signup: no pool, CREATE SCHEMA + every tenant migration.

    schema_create_by_migrating runs inside the signup transaction: django-tenants' standard
    executor tolerates an atomic block (it skips its commit/close there), so the figure is one
    transaction like the other two paths.
    """
    migrate = provisioning.schema_create_by_migrating
    calls: list[str] = []

    def create_by_migrating(schema_name: str) -> None:
        calls.append(schema_name)
        migrate(schema_name)

    with (
        mock.patch.object(provisioning, "pool_claim", return_value=None),
        mock.patch.object(provisioning, "schema_clone_from_template", create_by_migrating),
    ):
        yield
    if len(calls) != 1:  # salon_signup no longer goes through these two functions: the figure would be a clone
        raise RuntimeError(f"stock sample: schema_create_by_migrating ran {len(calls)} times, expected once")


def signup_once(method: str, size: int, tag: str) -> SignupSample:
    subdomain = f"s{size}-{method}-{tag}"
    raw = signup_raw(subdomain)
    fresh_connection()
    if method == "pool":
        provisioning.pool_refill(target=1)
        if pool_count() < 1:
            raise RuntimeError("pool_refill did not add a schema")
    elif pool_count():
        pool_drain()
    pool_before = pool_count()
    context: AbstractContextManager[Any] = _stock_provisioning() if method == "stock" else nullcontext()

    with context:
        started = time.perf_counter()
        result = services.salon_signup(raw=raw)
        elapsed = time.perf_counter() - started

    expected = "pool" if method == "pool" else "clone"
    if result.provisioned_by != expected:
        raise RuntimeError(f"{method} sample was provisioned by {result.provisioned_by}")
    if pool_count() != pool_before - (1 if method == "pool" else 0):
        raise RuntimeError("the pool changed size during the signup: a refill ran inline")
    schema = result.salon.schema_name

    # Schema usable: the rows are there and the schema holds every migration on disk.
    with schema_context(schema):
        if not User.objects.filter(pk=result.owner_id).exists() or not Location.objects.exists():
            raise RuntimeError(f"{subdomain}: owner or location missing")
    if not provisioning.schema_is_current(schema):
        raise RuntimeError(f"{subdomain}: schema {schema} is missing migrations")

    # Owner can log in, (1) through the auth backend in the salon's schema ...
    with schema_context(schema):
        started = time.perf_counter()
        user = authenticate(None, username=raw["owner_email"], password=PASSWORD)
        auth_seconds = time.perf_counter() - started
    if user is None or user.pk != result.owner_id:
        raise RuntimeError(f"{subdomain}: authenticate() failed")
    # ... and (2) through the login form on the salon's own domain.
    client = Client()
    started = time.perf_counter()
    response = client.post(
        "/login/", {"username": raw["owner_email"], "password": PASSWORD}, HTTP_HOST=f"{subdomain}.localhost"
    )
    login_seconds = time.perf_counter() - started
    tenant_db.set_schema_to_public()
    if response.status_code != 302 or "login" in response.get("Location", ""):
        raise RuntimeError(f"{subdomain}: login POST answered {response.status_code} {response.get('Location')}")

    salon_remove(result.salon)
    if salon_count() != size:
        raise RuntimeError(f"expected {size} salons after removing the sample, found {salon_count()}")
    return SignupSample(method, size, elapsed, result.seconds, auth_seconds, login_seconds)


def signup_size(run: SignupRun, size: int, counts: dict[str, int]) -> None:
    """All three paths side by side at one size, interleaved so drift hits them alike."""
    for index in range(max(counts.values())):
        for method in METHODS:
            if index < counts[method]:
                sample = signup_once(method, size, str(index + 1))
                run.samples.append(sample)
                log(
                    f"{size} salons  {method:<5} #{index + 1}: {sample.seconds:.3f} s"
                    f"  (authenticate {sample.authenticate_seconds:.3f} s,"
                    f" login POST {sample.client_login_seconds:.3f} s)"
                )


def signup_warmup() -> None:
    """One unrecorded pool and clone signup: first-use imports and caches stay out of the samples."""
    size = salon_count()
    for method in ("pool", "clone"):
        signup_once(method, size, "warm")


class _Rollback(Exception):
    pass


def _in_rolled_back_transaction(call: Callable[[], object]) -> float:
    """Time ``call`` inside a transaction that is then rolled back (the database is left as it was)."""
    elapsed = 0.0
    try:
        with transaction.atomic():
            started = time.perf_counter()
            call()
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    finally:
        tenant_db.set_schema_to_public()
    return elapsed


def pool_refill_clone_times(count: int) -> list[float]:
    """Time every clone one real ``pool_refill(target=count)`` makes (committed, on one connection)."""
    real_clone = provisioning.schema_clone_from_template
    times: list[float] = []

    def timed_clone(schema_name: str) -> None:
        started = time.perf_counter()
        real_clone(schema_name)
        times.append(time.perf_counter() - started)

    fresh_connection()
    with mock.patch.object(provisioning, "schema_clone_from_template", timed_clone):
        provisioning.pool_refill(target=count)
    return times


def signup_components(size: int, samples: int = 3, repeat: int = 20) -> dict[str, list[float]]:
    """Where a signup's time goes, step by step (each step rolled back; not part of the signup figures).

    ``clone_repeat`` is the time of each clone made by one ``pool_refill(target=repeat)`` call (one
    connection, as the Celery task does): it shows whether a backend slows down with every clone.
    """
    from tenants.validation import signup_validate

    data = signup_validate(signup_raw(f"s{size}-parts"))
    password_hash = make_password(PASSWORD)
    fresh_connection()
    provisioning.pool_refill(target=1)

    def claim_and_rows() -> None:
        schema = provisioning.pool_claim()
        if schema is None:
            raise RuntimeError("pool is empty")
        services._salon_create_rows(data, schema, password_hash, "zh-hans")

    def clone() -> None:
        provisioning.schema_clone_from_template(provisioning.new_schema_name())

    def migrate() -> None:
        provisioning.schema_create_by_migrating(provisioning.new_schema_name())

    parts: dict[str, list[float]] = {"claim_rows": [], "clone": [], "migrate": [], "clone_repeat": []}
    for index in range(samples):
        fresh_connection()
        parts["claim_rows"].append(_in_rolled_back_transaction(claim_and_rows))
        fresh_connection()
        parts["clone"].append(_in_rolled_back_transaction(clone))
        if index < max(1, samples - 1):
            fresh_connection()
            parts["migrate"].append(_in_rolled_back_transaction(migrate))
    pool_drain()
    parts["clone_repeat"] = pool_refill_clone_times(repeat)
    pool_drain()
    if salon_count() != size:
        raise RuntimeError("the component measurements left a salon behind")
    if len(parts["clone_repeat"]) != repeat:
        raise RuntimeError(f"pool_refill(target={repeat}) made {len(parts['clone_repeat'])} clones")
    log(
        f"{size} salons  parts: pool claim + rows {min(parts['claim_rows']):.3f} s, clone step "
        f"{min(parts['clone']):.3f} s, stock migrate step {min(parts['migrate']):.3f} s (best of each); "
        f"{repeat} clones on one connection: {parts['clone_repeat'][0]:.3f} s first, "
        f"{parts['clone_repeat'][-1]:.3f} s last"
    )
    return parts


def clone_function_installed() -> bool:
    """Whether the app's clone path went through django-tenants' clone_schema() SQL function (fresh database)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'clone_schema')")
        row = cursor.fetchone()
    return bool(row and row[0])


# --- (b) routing ----------------------------------------------------------------


def _requests_per_second(client: Client, host: str, count: int, latencies: list[float] | None = None) -> float:
    """Block rate of ``count`` requests; each request's own wall time goes to ``latencies`` too."""
    get = client.get
    clock = time.perf_counter
    started = clock()
    previous = started
    for _ in range(count):
        response = get(API_PATH, HTTP_HOST=host)
        now = clock()
        if latencies is not None:
            latencies.append(now - previous)
        previous = now
        if response.status_code != 200:
            raise RuntimeError(f"GET {API_PATH} on {host} answered {response.status_code}")
    return count / (clock() - started)


def rps(rounds: int, requests: int, warmup: int) -> RpsRun:
    hosts = {"public": settings.PLATFORM_DOMAIN, "salon": f"{RPS_SUBDOMAIN}.{settings.PLATFORM_DOMAIN}"}
    client = Client()
    public = client.get(API_PATH, HTTP_HOST=hosts["public"]).json()
    salon = client.get(API_PATH, HTTP_HOST=hosts["salon"]).json()
    if public.get("salon") is not None or salon.get("salon") != RPS_SUBDOMAIN or not salon.get("schema_ready"):
        raise RuntimeError(f"unexpected meta answers: {public} / {salon}")
    for host in hosts.values():
        _requests_per_second(client, host, warmup)
    run = RpsRun(rounds=rounds, requests=requests)
    with CaptureQueriesContext(connection) as queries:
        client.get(API_PATH, HTTP_HOST=hosts["public"])
    run.public_queries = len(queries)
    with CaptureQueriesContext(connection) as queries:
        client.get(API_PATH, HTTP_HOST=hosts["salon"])
    run.salon_queries = len(queries)
    for index in range(rounds):
        order = ("public", "salon") if index % 2 == 0 else ("salon", "public")
        for name in order:
            if name == "public":
                value = _requests_per_second(client, hosts["public"], requests, run.public_latency)
                run.public.append(value)
            else:
                value = _requests_per_second(client, hosts["salon"], requests, run.salon_latency)
                run.salon.append(value)
            log(f"round {index + 1} {name:<6} {value:,.0f} req/s")
    tenant_db.set_schema_to_public()
    return run


# --- (c) migrate_schemas --------------------------------------------------------------


def _timed(call: Callable[[], object]) -> float:
    tenant_db.set_schema_to_public()
    started = time.perf_counter()
    call()
    elapsed = time.perf_counter() - started
    tenant_db.set_schema_to_public()
    return elapsed


def migrate_noop(run: MigrateRun, in_process_runs: int) -> None:
    run.salons, run.pool = salon_count(), pool_count()
    output = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()):  # django-tenants' executor prints to sys.stdout itself
        call_command("migrate_schemas", interactive=False, verbosity=1, stdout=output)
    tenant_db.set_schema_to_public()
    run.summary = next((line for line in output.getvalue().splitlines() if "salon schemas" in line), "")
    log(f"check run (verbosity=1, untimed): {run.summary or 'no summary line'}")
    for index in range(in_process_runs):
        value = _timed(lambda: call_command("migrate_schemas", interactive=False, verbosity=0))
        run.in_process.append(value)
        log(f"call_command('migrate_schemas') #{index + 1}: {value:.2f} s")
    command = [sys.executable, "manage.py", "migrate_schemas", "--noinput", "--verbosity", "0"]
    run.subprocess_seconds = _timed(
        lambda: subprocess.run(command, cwd=BASE_DIR, env=dict(os.environ), check=True, timeout=600)
    )
    log(f"subprocess manage.py migrate_schemas: {run.subprocess_seconds:.2f} s")


def migrate_stock(run: MigrateRun, mode: str, sample: int) -> None:
    """django-tenants' own migrate_schemas (standard executor): the full migrate command on every salon."""
    from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

    run.stock_mode = mode
    if mode == "full":
        run.stock_seconds = _timed(lambda: call_command(MigrateSchemasCommand(), interactive=False, verbosity=0))
        log(f"stock migrate_schemas over {run.salons} salons: {run.stock_seconds:.1f} s")
        return
    if mode != "sample":
        return
    run.stock_public_seconds = _timed(
        lambda: call_command(MigrateSchemasCommand(), shared=True, interactive=False, verbosity=0)
    )
    tenant_db.set_schema_to_public()
    names = list(Salon.objects.order_by("pk").values_list("schema_name", flat=True)[:sample])
    for name in names:
        run.stock_per_schema.append(
            _timed(
                lambda name=name: call_command(  # type: ignore[misc]
                    MigrateSchemasCommand(), schema_name=name, interactive=False, verbosity=0
                )
            )
        )
    mean = sum(run.stock_per_schema) / len(run.stock_per_schema)
    run.stock_seconds = run.stock_public_seconds + mean * run.salons
    log(
        f"stock migrate, public: {run.stock_public_seconds:.2f} s; {len(names)} salons one by one:"
        f" {mean:.2f} s each → {run.stock_seconds:.0f} s estimated for {run.salons} salons"
    )


# --- (d) client import ----------------------------------------------------------------

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石"
    "廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = "丽娜静敏婷雪芳燕玲梅欣怡佳琳晓颖慧倩雅淑秀霞红艳丹萍洁蕾薇璐瑶嘉思雨梦子涵然可馨宇浩杰伟强磊军勇鹏超明华"
_PREFIXES = tuple(
    "130 131 132 133 135 136 137 138 139 150 151 152 155 156 158 159 177 180 181 185 186 187 188 189 199".split()
)
_TAGS = ("VIP", "老客户", "敏感肌", "美白", "抗衰", "团购")
_SOURCES = ("", "", "美团", "转介绍", "到店", "抖音", "小红书", "微信")


def client_list_xlsx(rows: int, seed: int = 7) -> bytes:
    """A client list as Chinese salons keep it: names, unique mainland mobiles, birthdays as date
    cells (some blank), gender, tags separated by 、, source and notes."""
    import datetime
    import random

    from openpyxl import Workbook

    rng = random.Random(seed)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")
    sheet.append(["姓名", "手机号", "性别", "生日", "标签", "来源", "备注"])
    numbers = rng.sample(range(10**8), rows)
    first = datetime.date(1960, 1, 1).toordinal()
    last = datetime.date(2005, 12, 31).toordinal()
    for index in range(rows):
        name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))
        phone = f"{rng.choice(_PREFIXES)}{numbers[index]:08d}"
        birthday = datetime.date.fromordinal(rng.randint(first, last)) if rng.random() < 0.8 else None
        tags = "、".join(rng.sample(_TAGS, rng.choice((0, 0, 1, 1, 2))))
        note = rng.choice(("", "", "", "喜欢安静", "对香味敏感", "周末到店"))
        sheet.append([name, phone, "女" if rng.random() < 0.85 else "男", birthday, tags, rng.choice(_SOURCES), note])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def client_import(rows: int) -> Any:
    """Check and import a generated ``rows``-row XLSX into one new salon, in-process (inline, as
    the Celery task runs it), then the same file again (every row a duplicate)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import override_settings

    from apps.crm.models import Client, ImportStatus
    from apps.crm.services import imports
    from apps.crm.services.tags import tag_create
    from bench.results import ImportRun

    run = ImportRun(rows=rows)
    started = time.perf_counter()
    data = client_list_xlsx(rows)
    run.generate_seconds = time.perf_counter() - started
    run.file_bytes = len(data)
    fresh_connection()
    result = services.salon_signup(raw=signup_raw("import-bench"))
    jobs = []
    try:
        with schema_context(result.salon.schema_name), override_settings(CLIENT_IMPORT_INLINE_ROWS=10**9):
            owner = User.objects.get(pk=result.owner_id)
            for name in _TAGS:
                tag_create(name=name, acting_user=owner)

            for attempt in ("first", "again"):
                began = time.perf_counter()
                job = imports.import_job_create(file=SimpleUploadedFile("clients.xlsx", data), acting_user=owner)
                upload_seconds = time.perf_counter() - began
                jobs.append(job)
                began = time.perf_counter()
                job = imports.import_job_check(job=job, acting_user=owner)
                check_seconds = time.perf_counter() - began
                began = time.perf_counter()
                job = imports.import_job_run(job=job, acting_user=owner)
                import_seconds = time.perf_counter() - began
                if job.status != ImportStatus.DONE:
                    raise RuntimeError(f"import ended {job.status}: {job.failure}")
                if attempt == "first":
                    run.upload_seconds, run.check_seconds, run.import_seconds = (
                        upload_seconds,
                        check_seconds,
                        import_seconds,
                    )
                    run.created, run.errors = job.created_count, job.error_count
                    if Client.objects.count() != job.created_count:
                        raise RuntimeError("the salon holds another number of clients than the import created")
                else:
                    run.reimport_check_seconds, run.reimport_seconds = check_seconds, import_seconds
                    run.reimport_skipped = job.skipped_count
                    if job.created_count or Client.objects.count() != run.created:
                        raise RuntimeError("importing the same file again added clients")
                log(
                    f"{attempt}: upload {upload_seconds:.2f} s, check {check_seconds:.2f} s, import "
                    f"{import_seconds:.2f} s (created {job.created_count}, skipped {job.skipped_count}, "
                    f"bad rows {job.error_count})"
                )
    finally:
        with schema_context(result.salon.schema_name):
            for job in jobs:
                job.file.delete(save=False)
        salon_remove(result.salon)
    return run
