"""Helpers of the browser tests (the fixtures are in conftest.py): the live server, database access
from the test, and the ledger of the salons a test creates."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1024, "height": 768}  # the front-desk tablet
ACTION_TIMEOUT_MS = 10_000  # fail fast: the whole module must stay well under a minute
NAVIGATION_TIMEOUT_MS = 15_000

T = TypeVar("T")


# --- database access from the test ------------------------------------------------------------


def db_run(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` in a fresh thread (no asyncio loop there) and close that thread's DB connections."""

    def call() -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser-test-db") as pool:
        return pool.submit(call).result()


# --- live server ------------------------------------------------------------------------------


class QuietHandler(WSGIRequestHandler):
    timeout = 10  # an idle keep-alive socket ends its thread (and closes its DB connection) in time

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LiveServer(ThreadedWSGIServer):
    """Django's threaded server: each connection's thread closes its own DB connections when it ends
    (``close_request``). The threads are remembered so teardown can wait for them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), name="browser-server-request"
        )
        thread.daemon = True
        with self._threads_lock:
            self.request_threads = [t for t in self.request_threads if t.is_alive()]
            self.request_threads.append(thread)
        thread.start()

    def join_request_threads(self, timeout: float) -> list[threading.Thread]:
        with self._threads_lock:
            threads = list(self.request_threads)
        for thread in threads:
            thread.join(timeout)
        return [t for t in threads if t.is_alive()]


@dataclass(frozen=True)
class LiveSalonServer:
    port: int

    def public_url(self, path: str = "/") -> str:
        return f"http://localhost:{self.port}{path}"

    def salon_url(self, subdomain: str, path: str = "/") -> str:
        return f"http://{subdomain}.localhost:{self.port}{path}"


# --- the salons a test creates ----------------------------------------------------------------


@dataclass(frozen=True)
class CreatedSalon:
    pk: int
    subdomain: str
    schema_name: str
    domains: tuple[str, ...]


def salons_except(keep: frozenset[int]) -> list[CreatedSalon]:
    from tenants.models import Salon

    return [
        CreatedSalon(s.pk, s.subdomain, s.schema_name, tuple(d.domain for d in s.domains.all()))
        for s in Salon.objects.exclude(pk__in=keep).prefetch_related("domains").order_by("pk")
    ]


def salon_ids() -> frozenset[int]:
    from tenants.models import Salon

    return frozenset(Salon.objects.values_list("pk", flat=True))


def salons_remove(keep: frozenset[int]) -> list[str]:
    """Delete every salon not in ``keep``: its Domain rows, its row, then DROP its schema.

    Returns what went wrong (left-over schemas, salons of other tests that went missing)."""
    from django.db import connection
    from django_tenants.utils import schema_exists

    from tenants.middleware import tenant_cache_clear
    from tenants.models import Domain, Salon
    from tenants.provisioning import schema_drop

    connection.set_schema_to_public()
    left: list[str] = []
    for salon in salons_except(keep):
        Domain.objects.filter(tenant_id=salon.pk).delete()
        Salon.objects.filter(pk=salon.pk).delete()
        schema_drop(salon.schema_name)
        if schema_exists(salon.schema_name):  # pragma: no cover
            left.append(f"schema {salon.schema_name} is still there")
    tenant_cache_clear()
    missing = keep - salon_ids()
    if missing:  # pragma: no cover - the salons of other tests (alpha, beta) must survive
        left.append(f"salons {sorted(missing)} that predate the test are gone")
    return left


class SalonLedger:
    """The salons that existed when the test began; everything newer is the test's own."""

    def __init__(self) -> None:
        self.before = db_run(salon_ids)

    def created(self) -> list[CreatedSalon]:
        return db_run(salons_except, self.before)


# --- page actions -----------------------------------------------------------------------------


def sign_in(page: Any, username: str, password: str) -> None:
    """Fill and submit the salon's (Chinese) sign-in form on the page already open."""
    page.get_by_label("手机号、电子邮箱或用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
