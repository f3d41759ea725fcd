"""What a run measured (plain data, no Django)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
    hash_make: list[float] = field(default_factory=list)
    hash_check: list[float] = field(default_factory=list)
    signup: SignupRun = field(default_factory=SignupRun)
    components: dict[int, dict[str, list[float]]] = field(default_factory=dict)  # size -> step -> seconds
    rps: RpsRun | None = None
    migrate: MigrateRun | None = None
    client_import: ImportRun | None = None
    clone_function_used: bool = False  # django-tenants' clone_schema() SQL function was installed by the app
    tenant_migrations: int = 0  # migrations a salon schema holds (what the stock path runs)
    notes: list[str] = field(default_factory=list)
