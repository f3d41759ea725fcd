"""What a run measured (plain data, no Django)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

RPS_SUBDOMAIN = "alpha-bench"  # the salon host of (b); also the first filler salon


@dataclass
class SignupSample:
    method: str  # pool, clone or stock
    size: int  # existing salons while it ran
    seconds: float  # wall time of salon_signup(), measured by the benchmark
    service_seconds: float  # SignupResult.seconds (measured inside salon_signup)
    authenticate_seconds: float
    client_login_seconds: float


@dataclass
class SignupRun:
    samples: list[SignupSample] = field(default_factory=list)

    def values(self, method: str, size: int, attr: str = "seconds") -> list[float]:
        return [float(getattr(s, attr)) for s in self.samples if s.method == method and s.size == size]


@dataclass
class RpsRun:
    rounds: int
    requests: int
    public: list[float] = field(default_factory=list)
    salon: list[float] = field(default_factory=list)
    public_queries: int = 0
    salon_queries: int = 0
    public_latency: list[float] = field(default_factory=list)  # every request's wall time, seconds
    salon_latency: list[float] = field(default_factory=list)


@dataclass
class MigrateRun:
    salons: int = 0
    pool: int = 0
    in_process: list[float] = field(default_factory=list)
    subprocess_seconds: float = math.nan
    stock_mode: str = "skip"  # full, sample or skip
    stock_seconds: float = math.nan  # measured (full) or estimated (sample)
    stock_public_seconds: float = math.nan
    stock_per_schema: list[float] = field(default_factory=list)
    summary: str = ""  # the command's own summary line from an extra verbosity=1 run


@dataclass
class SearchKindRun:
    """One kind of search query (last four digits, pinyin initials, name prefix …), timed many times."""

    key: str
    label: str
    examples: list[str]
    intended_index: str  # the index this kind's condition is meant to use
    target: bool  # whether the ≤ 30 ms target applies (else information only)
    seconds: list[float] = field(default_factory=list)  # wall time of each client_search() call
    results: list[int] = field(default_factory=list)  # clients each call returned
    queries: int = 0  # SQL statements one call makes
    plan: str = ""  # EXPLAIN (ANALYZE, BUFFERS) of the main SELECT for examples[0]
    plan_query: str = ""
    indexes_used: list[str] = field(default_factory=list)
    seq_scan: bool = False
    condition_sql: str = ""  # the WHERE clause Django emitted for the ranking


@dataclass
class ListPageRun:
    """The client list (``client_list_filtered``): a page of rows with their tags, plus the count."""

    label: str
    params: dict[str, str]
    seconds: list[float] = field(default_factory=list)  # one page of ``page_size`` rows + their tags
    count_seconds: list[float] = field(default_factory=list)  # the filtered count (for the pager)
    page_size: int = 50
    queries_by_size: dict[int, int] = field(default_factory=dict)  # rows on the page -> SQL statements
    total: int = 0
    proposed_index: str = ""  # an index created by hand in the bench schema for this page, if any
    seconds_with_index: list[float] = field(default_factory=list)


@dataclass
class SearchRun:
    clients: int = 0
    seed: int = 0
    build_seconds: float = math.nan  # client_build for every client
    insert_seconds: float = math.nan  # bulk_create
    history_seconds: float = math.nan  # tags and purchase lines (bulk)
    client_tags: int = 0
    purchase_lines: int = 0
    vacuum_seconds: float = math.nan
    table_size: str = ""
    build_plain: list[float] = field(default_factory=list)  # client_build without a birthday, seconds each
    build_birthday: list[float] = field(default_factory=list)  # with a random (uncached) birthday
    kinds: list[SearchKindRun] = field(default_factory=list)
    pages: list[ListPageRun] = field(default_factory=list)
    load_start: str = ""
    load_end: str = ""
    started: str = ""
    minutes: float = 0.0


@dataclass
class ImportRun:
    """(d) Importing a generated client list into one salon, in-process."""

    rows: int
    file_bytes: int = 0
    generate_seconds: float = math.nan  # building the XLSX (not part of any figure)
    upload_seconds: float = math.nan  # import_job_create: content check, header, row count, storage
    check_seconds: float = math.nan  # the dry run over every row
    import_seconds: float = math.nan  # the import itself
    created: int = 0
    errors: int = 0
    reimport_check_seconds: float = math.nan  # the same file again: every row is already a client
    reimport_seconds: float = math.nan
    reimport_skipped: int = 0


@dataclass
class Results:
    started: str
    machine: dict[str, str]
    postgres: str
    versions: dict[str, str]
    counts: dict[str, int]
    sizes: list[int]
    minutes: float = 0.0
    load_start: str = ""
    load_end: str = ""
    setup_seconds: float = math.nan
    fill: dict[int, tuple[int, float]] = field(default_factory=dict)
    loyalty: Any = None  # bench.loyalty.LoyaltyRun
    scheduling: Any = None  # bench.scheduling.SchedulingRun
    pos_reports: Any = None  # bench.pos_reports.PosReportsRun
    hash_make: list[float] = field(default_factory=list)
    hash_check: list[float] = field(default_factory=list)
    signup: SignupRun = field(default_factory=SignupRun)
    components: dict[int, dict[str, list[float]]] = field(default_factory=dict)  # size -> step -> seconds
    rps: RpsRun | None = None
    migrate: MigrateRun | None = None
    search: SearchRun | None = None
    client_import: ImportRun | None = None
    clone_function_used: bool = False  # django-tenants' clone_schema() SQL function was installed by the app
    tenant_migrations: int = 0  # migrations a salon schema holds (what the stock path runs)
    notes: list[str] = field(default_factory=list)
