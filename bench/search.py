"""(d) Client search (CRM-8) and the client list with 100,000 clients in one salon.

Import only after ``django.setup()`` (bench.run does).
"""

from __future__ import annotations

import datetime
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from pypinyin import Style, lazy_pinyin

from apps.crm.models import Tag
from apps.crm.selectors import client_list_filtered, client_search
from apps.crm.services.clients import client_build
from bench import machine
from bench.clients import (
    SURNAMES,
    MadeClient,
    client_fields,
    client_history_generate,
    clients_generate,
)
from bench.results import ListPageRun, SearchKindRun, SearchRun
from bench.scenarios import log, signup_raw, tenant_db
from tenants import services

SEARCH_SUBDOMAIN = "search-bench"
PAGE_SIZES = (5, 50)
# Index changes measured by hand in the bench schema (the models are not changed by the benchmark):
# page label -> CREATE INDEX statement.
# Indexes to try by hand on a slow list page before proposing them for the models. Empty: the
# last proposal (name_pinyin, id) is now the model's client_pinyin_order_idx.
PROPOSED_INDEXES: dict[str, str] = {}

MakeQuery = Callable[[random.Random, "Pools"], str]


@dataclass(frozen=True)
class Pools:
    """The generated clients, grouped by what a query can be made from."""

    everyone: Sequence[MadeClient]
    chinese: Sequence[MadeClient]
    latin: Sequence[MadeClient]
    with_card: Sequence[MadeClient]
    with_id: Sequence[MadeClient]

    @classmethod
    def of(cls, clients: Sequence[MadeClient]) -> Pools:
        return cls(
            everyone=clients,
            chinese=[c for c in clients if not c.name.isascii()],
            latin=[c for c in clients if c.name.isascii()],
            with_card=[c for c in clients if c.card_number],
            with_id=[c for c in clients if c.id_number],
        )


def _phone_spelling(rng: random.Random, pools: Pools) -> str:
    national = rng.choice(pools.everyone).phone.removeprefix("+86")
    spelled = (
        national,
        f"{national[:3]} {national[3:7]} {national[7:]}",
        f"+86 {national[:3]}-{national[3:7]}-{national[7:]}",
    )
    return rng.choice(spelled)


def _initials(rng: random.Random, pools: Pools) -> str:
    while True:
        initials = rng.choice(pools.chinese).name_initials
        if len(initials) >= 2:
            return initials[: rng.choice((2, 3))]


def _pinyin_prefix(rng: random.Random, pools: Pools) -> str:
    """Surname spelled out plus the first letter of the given name: "zhangs"."""
    syllables = lazy_pinyin(rng.choice(pools.chinese).name, style=Style.NORMAL)
    return syllables[0] + syllables[1][:1]


def _letter(rng: random.Random, pools: Pools) -> str:
    return rng.choice(pools.chinese).name_initials[:1]


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    intended_index: str
    target: bool
    make: MakeQuery
    explain: str = ""  # the query whose plan is recorded (default: the kind's first query)


KINDS: tuple[Kind, ...] = (
    Kind(
        "last4", "last four digits of the phone", "client_last4_idx", True, lambda r, p: r.choice(p.everyone).phone[-4:]
    ),
    Kind(
        "initials",
        "pinyin initials, 2–3 letters (zs, wxm)",
        "client_initials_idx",
        True,
        _initials,
    ),
    Kind(
        "name_prefix",
        "name prefix: surname + first given character (张伟)",
        "client_name_prefix_idx",
        True,
        lambda r, p: r.choice(p.chinese).name[:2],
    ),
    Kind(
        "surname",
        "name prefix: a bare common surname (王 李 张 …, top 10)",
        "client_name_prefix_idx",
        True,
        lambda r, p: r.choice(SURNAMES[:10])[0],
        explain="王",  # the most common surname: the most rows to rank
    ),
    Kind("pinyin", "full pinyin prefix (zhangs)", "client_pinyin_idx", True, _pinyin_prefix),
    Kind(
        "phone",
        "whole phone (13800135678, 138 0013 5678, +86 138-0013-5678)",
        "client_phone_unique_active",
        True,
        _phone_spelling,
    ),
    Kind(
        "card",
        "card number, exact",
        "client_card_prefix_idx",
        True,
        lambda r, p: r.choice(p.with_card).card_number,
    ),
    Kind(
        "card_prefix",
        "card number prefix, 6 digits",
        "client_card_prefix_idx",
        True,
        lambda r, p: r.choice(p.with_card).card_number[:6],
    ),
    Kind(
        "id_number",
        "resident ID number, 18 characters",
        "client_id_number_idx",
        True,
        lambda r, p: r.choice(p.with_id).id_number,
    ),
    Kind(
        "latin",
        "Latin name prefix, 3 letters (Lil)",
        "client_name_prefix_idx",
        True,
        lambda r, p: r.choice(p.latin).name[:3],
    ),
    Kind("letter", "one letter (the first keystroke of a live search)", "client_initials_idx", False, _letter),
)

_INDEX_USED = re.compile(r"(?:Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)")
_SEQ_SCAN = re.compile(r"Seq Scan on crm_client\b")
# The ranking subquery's condition, or the main query's when there is no subquery.
_RANKING_WHERE = (
    re.compile(r'FROM "crm_client" U0 WHERE (.*?) ORDER BY'),
    re.compile(r'FROM "crm_client" (?:LEFT OUTER JOIN .*? )?WHERE (.*?) ORDER BY'),
)


def search_salon() -> str:
    """A new salon through the real signup; its schema."""
    tenant_db.set_schema_to_public()
    schema = services.salon_signup(raw=signup_raw(SEARCH_SUBDOMAIN)).salon.schema_name
    tenant_db.set_schema_to_public()
    return schema


def search_fill(run: SearchRun, schema: str, count: int, seed: int) -> list[MadeClient]:
    """``count`` clients through client_build + bulk_create, tags and purchases, then VACUUM ANALYZE."""
    run.clients, run.seed = count, seed
    started = time.perf_counter()

    def progress(done: int) -> None:
        if done % 20_000 == 0 or done == count:
            log(f"{done:,} clients ({time.perf_counter() - started:.0f} s)")

    with schema_context(schema):
        made = clients_generate(count=count, seed=seed, progress=progress)
        run.build_seconds, run.insert_seconds = made.build_seconds, made.insert_seconds
        started = time.perf_counter()
        run.client_tags, run.purchase_lines = client_history_generate(
            client_ids=[c.pk for c in made.clients], seed=seed
        )
        run.history_seconds = time.perf_counter() - started
        log(f"{run.client_tags:,} client tags and {run.purchase_lines:,} purchase lines ({run.history_seconds:.0f} s)")
        # What autovacuum does on its own after a bulk load: statistics for the planner and a
        # visibility map, so the plans below are the ones a settled salon gets.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) crm_client, crm_clienttag, crm_purchaseline, crm_tag")
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('crm_client'))")
            row = cursor.fetchone()
        run.vacuum_seconds = time.perf_counter() - started
        run.table_size = str(row[0]) if row else ""
    return made.clients


def build_costs(run: SearchRun, seed: int, samples: int = 60) -> None:
    """client_build alone (no database), without and with a birthday: the lunar conversion's share."""
    rng = random.Random(seed)
    today = datetime.date.today()
    phones: set[int] = set()
    for _ in range(samples):
        fields = client_fields(rng, lambda: rng.choice(SURNAMES)[0], phones, today)
        for derived_from_birthday in ("birthday", "birthday_is_lunar", "id_number"):
            fields.pop(derived_from_birthday, None)
        started = time.perf_counter()
        client_build(**fields)
        run.build_plain.append(time.perf_counter() - started)
        fields["birthday"] = today - datetime.timedelta(days=rng.randrange(18 * 365, 65 * 365))
        started = time.perf_counter()
        client_build(**fields)
        run.build_birthday.append(time.perf_counter() - started)


def _explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(str(row[0]) for row in cursor.fetchall())


def _ranking_condition(sql: str) -> str:
    for pattern in _RANKING_WHERE:
        where = pattern.search(sql)
        if where:
            return where.group(1)
    return ""


def _main_select(captured: CaptureQueriesContext) -> str:
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.lstrip().upper().startswith("SELECT") and 'FROM "crm_client"' in sql:
            return sql
    raise RuntimeError("client_search ran no SELECT on crm_client")


def _check(kind: Kind, query: str, found: list[Any], pools: Pools) -> None:
    """The benchmark measures searches that work: each query finds what it was made from."""
    if not found:
        raise RuntimeError(f"{kind.key}: {query!r} found nothing")
    if kind.key in ("card", "id_number"):
        wanted = [c.pk for c in pools.everyone if query in (c.card_number, c.id_number)]
        if [c.pk for c in found] != wanted:
            raise RuntimeError(f"{kind.key}: {query!r} found {[c.pk for c in found]}, expected {wanted}")


def search_measure(run: SearchRun, schema: str, clients: list[MadeClient], per_kind: int, seed: int) -> None:
    """Every kind ``per_kind`` times, kinds interleaved so drift on the machine hits them alike."""
    rng = random.Random(seed)
    pools = Pools.of(clients)
    run.kinds = [
        SearchKindRun(
            key=kind.key,
            label=kind.label,
            examples=[kind.make(rng, pools) for _ in range(per_kind)],
            intended_index=kind.intended_index,
            target=kind.target,
        )
        for kind in KINDS
    ]
    kinds = dict(zip((k.key for k in KINDS), KINDS, strict=True))
    with schema_context(schema):
        for item in run.kinds:  # warm-up (not recorded): caches, the first-use imports, the plans
            for query in item.examples[:10]:
                _check(kinds[item.key], query, client_search(query=query), pools)
        clock = time.perf_counter
        for index in range(per_kind):
            for item in run.kinds:
                query = item.examples[index]
                started = clock()
                found = client_search(query=query)
                item.seconds.append(clock() - started)
                item.results.append(len(found))
        for item in run.kinds:
            item.plan_query = kinds[item.key].explain or item.examples[0]
            _check(kinds[item.key], item.plan_query, client_search(query=item.plan_query), pools)
            with CaptureQueriesContext(connection) as captured:
                client_search(query=item.plan_query)
            item.queries = len(captured)
            sql = _main_select(captured)
            item.plan = _explain(sql)
            item.indexes_used = list(dict.fromkeys(_INDEX_USED.findall(item.plan)))
            item.seq_scan = bool(_SEQ_SCAN.search(item.plan))
            item.condition_sql = _ranking_condition(sql)
            log(
                f"{item.key:<12} {len(item.seconds)} queries, median "
                f"{sorted(item.seconds)[len(item.seconds) // 2] * 1000:.2f} ms; indexes "
                f"{', '.join(item.indexes_used) or 'none'}{'; SEQ SCAN' if item.seq_scan else ''}"
            )


def _page(params: dict[str, str], size: int) -> int:
    rows = list(client_list_filtered(params)[:size])
    for row in rows:
        list(row.client_tags.all())  # the tags every row shows
        _ = (row.tier, row.last_visit, row.total_spend)  # type: ignore[attr-defined]
    return len(rows)


def list_measure(run: SearchRun, schema: str, samples: int) -> None:
    """The list page's reads: one page of rows with their tags, and the filtered count."""
    with schema_context(schema):
        tag = Tag.objects.get(name="VIP")
        run.pages = [
            ListPageRun("no filter, newest first", {}),
            ListPageRun("search 王", {"q": "王"}),
            ListPageRun("search zs", {"q": "zs"}),
            ListPageRun("tag filter (VIP)", {"tag": str(tag.pk)}),
            ListPageRun("order by name (pinyin)", {"order": "name"}),
            ListPageRun("birthday month", {"birthday_month": "5", "order": "birthday"}),
        ]
        for page in run.pages:
            for size in PAGE_SIZES:
                with CaptureQueriesContext(connection) as captured:
                    _page(page.params, size)
                page.queries_by_size[size] = len(captured)
            page.total = client_list_filtered(page.params).count()
            _page(page.params, page.page_size)  # warm-up
        clock = time.perf_counter
        for _ in range(samples):
            for page in run.pages:
                started = clock()
                _page(page.params, page.page_size)
                page.seconds.append(clock() - started)
                started = clock()
                client_list_filtered(page.params).count()
                page.count_seconds.append(clock() - started)
        for page in run.pages:
            log(
                f"list {page.label:<24} median {sorted(page.seconds)[samples // 2] * 1000:.1f} ms page, "
                f"{sorted(page.count_seconds)[samples // 2] * 1000:.1f} ms count; queries {page.queries_by_size}"
            )
        for page in run.pages:
            statement = PROPOSED_INDEXES.get(page.label)
            if not statement:
                continue
            with connection.cursor() as cursor:
                cursor.execute(statement)
                cursor.execute("ANALYZE crm_client")
            page.proposed_index = statement
            _page(page.params, page.page_size)  # warm-up
            for _ in range(samples):
                started = clock()
                _page(page.params, page.page_size)
                page.seconds_with_index.append(clock() - started)
            log(
                f"list {page.label:<24} median {sorted(page.seconds_with_index)[samples // 2] * 1000:.1f} ms "
                "with the proposed index"
            )


def search_all(run: SearchRun, *, count: int, per_kind: int, list_samples: int, seed: int) -> None:
    run.load_start = machine.load_average()
    schema = search_salon()
    log(f"salon {SEARCH_SUBDOMAIN!r} (schema {schema}); generating {count:,} clients")
    clients = search_fill(run, schema, count, seed)
    log(
        f"client_build {run.build_seconds:.0f} s, bulk_create {run.insert_seconds:.0f} s, "
        f"VACUUM ANALYZE {run.vacuum_seconds:.1f} s; crm_client {run.table_size}"
    )
    build_costs(run, seed)
    search_measure(run, schema, clients, per_kind, seed)
    list_measure(run, schema, list_samples)
    run.load_end = machine.load_average()
    tenant_db.set_schema_to_public()
