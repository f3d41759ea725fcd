"""What the API throughput benchmarks (booking, checkout) share: a scenario's figures; sending requests one
after another through Django's in-process test client, in this process or split among forked worker
processes started together (each with its own database and broker connection, as web workers behind a
server); which broker the messages a request queues go to; and the salon a run is made in, on a database of
its own that is dropped afterwards."""

from __future__ import annotations

import contextlib
import math
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

# One request: (the test client's post, the item) -> the answer's status code.
Send = Callable[[Callable[..., Any], Any], int]
WARM_UP = 5  # requests each forked worker sends before the common start (its connection, statement paths)


@dataclass
class Scenario:
    label: str
    workers: int
    count: int = 0
    seconds: float = math.nan
    latencies_ms: list[float] = field(default_factory=list)
    status_codes: dict[int, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else math.nan

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else math.nan


def send_all(items: Sequence[Any], send: Send, token: str, host: str) -> tuple[list[float], dict[int, int]]:
    """Send each item in turn with a bearer token; the latency of each and the count of each status."""
    from django.test import Client as HttpClient

    post = HttpClient(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token}").post
    latencies: list[float] = []
    codes: dict[int, int] = {}
    clock = time.perf_counter
    previous = clock()
    for item in items:
        code = send(post, item)
        now = clock()
        latencies.append((now - previous) * 1000)
        previous = now
        codes[code] = codes.get(code, 0) + 1
    return latencies, codes


def _worker(items: Sequence[Any], send: Send, token: str, host: str, barrier: Any, out: Any) -> None:
    from django.db import connections

    connections.close_all()  # the parent closed its own before forking; this one opens a fresh connection
    # The broker connection too: kombu's SQLAlchemy transport caches its engine per process, and a forked
    # child sharing the parent's socket would interleave the two processes' statements.
    from celery import current_app
    from kombu.transport.sqlalchemy import Channel

    # Dropped, not closed: closing would close the parent's connections; this process opens its own.
    current_app._pool = None
    current_app.amqp._producer_pool = None
    for engine, _session in Channel._engines.values():
        engine.dispose(close=False)
    Channel._engines.clear()
    send_all(items[:WARM_UP], send, token, host)
    barrier.wait()
    out.put(send_all(items[WARM_UP:], send, token, host))
    connections.close_all()


def timed(scenario: Scenario, items: Sequence[Any], send: Send, token: str, host: str) -> Scenario:
    """Send ``items``: in this process for one worker; else split among forked worker processes, timed
    from a common start to the last answer (each worker's first few are its warm-up, not counted)."""
    if scenario.workers == 1:
        started = time.perf_counter()
        scenario.latencies_ms, scenario.status_codes = send_all(items, send, token, host)
        scenario.seconds = time.perf_counter() - started
        scenario.count = len(items)
        return scenario
    import multiprocessing

    from django.db import connections

    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(scenario.workers + 1)
    out = context.Queue()
    connections.close_all()
    shares = [items[i :: scenario.workers] for i in range(scenario.workers)]
    processes = [context.Process(target=_worker, args=(share, send, token, host, barrier, out)) for share in shares]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    for _ in processes:
        latencies, codes = out.get()
        scenario.latencies_ms += latencies
        for code, n in codes.items():
            scenario.status_codes[code] = scenario.status_codes.get(code, 0) + n
    scenario.seconds = time.perf_counter() - started
    for process in processes:
        process.join()
    scenario.count = sum(len(share) - WARM_UP for share in shares)
    return scenario


def broker_url(choice: str) -> str:
    """The broker URL to use, or "" for the default (kombu's SQLAlchemy transport on the database):
    ``sql``, a URL, or ``auto`` (Redis on 127.0.0.1:6379 database 15 when it answers, as deployed)."""
    if choice == "sql":
        return ""
    if choice != "auto":
        return choice
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return "redis://127.0.0.1:6379/15"
    except OSError:
        return ""


def broker_label(url: str) -> str:
    if not url:
        return "the default broker (kombu's SQLAlchemy transport on the same PostgreSQL)"
    return f"`{url.split('://')[0]}` ({url.split('@')[-1]})"


def ms(value: float) -> str:
    return f"{value:.1f} ms"


@dataclass
class BenchSalon:
    """A salon made for one throughput run: its schema, the host its API answers on, the broker in use."""

    schema: str
    host: str
    broker: str
    raw: dict[str, Any]


@contextlib.contextmanager
def bench_salon(
    server_url: str, database: str, subdomain: str, broker_choice: str, log: Callable[[str], None]
) -> Iterator[BenchSalon]:
    """Create ``database`` on the server, set the benchmark's environment (production settings, throw-away
    keys, the broker ``broker_choice`` picks), set Django up, migrate, and sign a salon up on ``subdomain``;
    afterwards close the connections, drop the database and empty a Redis broker of the messages nobody
    will send. An error inside is printed and the cleanup still runs; the caller sees ``ok`` stay False."""
    import os

    from bench import dbutil
    from bench.run import BENCH_ENV, bench_keys

    dbutil.create_database(server_url, database)
    broker = ""
    try:
        os.environ.update(BENCH_ENV)
        os.environ.update(bench_keys())
        os.environ["DATABASE_URL"] = dbutil.url_with_database(server_url, database)
        broker = broker_url(broker_choice)
        if broker:
            os.environ["CELERY_BROKER_URL"] = broker
        else:
            os.environ.pop("CELERY_BROKER_URL", None)
        import django

        django.setup()
        from django.conf import settings
        from django.test.utils import setup_test_environment

        from bench.scenarios import migrate_fresh, signup_raw
        from tenants import services

        setup_test_environment()  # the test client's ALLOWED_HOSTS/testserver handling
        started = time.perf_counter()
        migrate_fresh()
        log(f"migrated in {time.perf_counter() - started:.1f} s")
        raw = signup_raw(subdomain)
        salon = services.salon_signup(raw=raw).salon
        yield BenchSalon(salon.schema_name, f"{subdomain}.{settings.PLATFORM_DOMAIN}", broker, raw)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception as exc:  # the drop below forces connections out anyway
            print(f"closing connections: {exc}", file=sys.stderr)
        dbutil.drop_database(server_url, database)
        if broker.startswith("redis://"):
            import redis

            redis.Redis.from_url(broker).flushdb()  # the queued messages nobody will send


def api_token(host: str, username: str, password: str) -> str:
    """A bearer token from ``POST /api/v1/auth/token/``."""
    from django.test import Client as HttpClient

    answer = HttpClient(HTTP_HOST=host).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, content_type="application/json"
    )
    return str(answer.json()["token"])
