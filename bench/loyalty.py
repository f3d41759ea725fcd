"""(f) Stored-value payments (LOY-3): ``wallet_debit`` in-process on one core — statements per payment and
payments per second, over many wallets and on one hot wallet — and the card refund quote.

Import only after ``django.setup()`` (bench.run does).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from bench.scenarios import log, signup_raw, tenant_db
from tenants import services

LOYALTY_SUBDOMAIN = "loyalty-bench"
TARGET_QUERIES = 5
TARGET_PER_SECOND = 300


@dataclass
class DebitRun:
    label: str
    wallets: int
    payments: int = 0
    seconds: float = math.nan
    latencies_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)  # statements of the payment itself
    search_path_sets: list[int] = field(default_factory=list)  # django-tenants' SET search_path before each

    @property
    def per_second(self) -> float:
        return self.payments / self.seconds if self.seconds else math.nan

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else math.nan


@dataclass
class LoyaltyRun:
    started: str = ""
    minutes: float = 0.0
    load_start: str = ""
    load_end: str = ""
    setup_seconds: float = math.nan
    runs: list[DebitRun] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    card_statements: list[str] = field(default_factory=list)
    quote_ms: list[float] = field(default_factory=list)
    quote_entries: int = 0


def _clients(count: int) -> list:
    from apps.crm.models import Client
    from apps.crm.services.clients import client_build
    from apps.loyalty.models import TopUpRule
    from apps.loyalty.services import wallets

    TopUpRule.objects.create(pay_amount=100_000, bonus_amount=20_000)
    built = [client_build(name=f"会员{i:05d}", phone=f"+86139{i:08d}") for i in range(count)]
    Client.objects.bulk_create(built, batch_size=2000)
    clients = list(Client.objects.order_by("id"))
    for client in clients:
        wallets.wallet_top_up(client=client, amount=1_000_000, idempotency_key=f"bench-top-up:{client.pk}")
    # The hot wallet of the one-wallet scenario pays thousands of bills.
    for i in range(10):
        wallets.wallet_top_up(client=clients[0], amount=4_000_000, idempotency_key=f"bench-hot:{i}")
    return clients


def _debits(run: DebitRun, clients: list, count: int, tag: str) -> None:
    from apps.loyalty.services import wallets

    started = time.perf_counter()
    for i in range(count):
        client = clients[i % len(clients)]
        t0 = time.perf_counter()
        wallets.wallet_debit(client=client, amount=1_234, idempotency_key=f"{tag}:{i}", reference=f"bill:{tag}:{i}")
        run.latencies_ms.append((time.perf_counter() - t0) * 1000)
    run.seconds = time.perf_counter() - started
    run.payments = count


def _statements(run: DebitRun, client, samples: int, tag: str) -> list[str]:
    from apps.loyalty.services import wallets

    sql: list[str] = []
    for i in range(samples):
        with CaptureQueriesContext(connection) as captured:
            wallets.wallet_debit(client=client, amount=100, idempotency_key=f"{tag}:q:{i}")
        sql = [q["sql"] for q in captured.captured_queries]
        sets = [q for q in sql if q.startswith("SET search_path")]
        run.search_path_sets.append(len(sets))
        run.queries.append(len([q for q in sql if q not in ("BEGIN", "COMMIT") and q not in sets]))
    return [q for q in sql if not q.startswith("SET search_path")]


def _owner():  # type: ignore[no-untyped-def]
    from apps.core.models import User
    from apps.core.roles import Role

    return User.objects.filter(groups__name=Role.OWNER).first()


def loyalty_all(run: LoyaltyRun, *, wallets_count: int, payments: int) -> None:
    from apps.loyalty.models import Wallet
    from apps.loyalty.services import cards, wallet_refunds

    tenant_db.set_schema_to_public()
    salon = services.salon_signup(raw=signup_raw(LOYALTY_SUBDOMAIN)).salon
    with schema_context(salon.schema_name):
        t0 = time.perf_counter()
        clients = _clients(wallets_count)
        run.setup_seconds = time.perf_counter() - t0
        log(f"  {wallets_count:,} wallets topped up in {run.setup_seconds:.1f} s")
        # Warm up: connection, statement paths, settings row.
        _debits(DebitRun("warm-up", wallets_count), clients, 300, "warm")

        spread = DebitRun("payments spread over many wallets", wallets_count)
        _debits(spread, clients, payments, "spread")
        run.statements = _statements(spread, clients[0], 50, "spread")
        run.runs.append(spread)
        log(f"  spread: {spread.per_second:.0f}/s, queries {max(spread.queries)}")

        owner = _owner()
        for client in clients:
            cards.member_card_issue(client=client, acting_user=owner)
        carded = DebitRun("the same, every member holding a card", wallets_count)
        _debits(carded, clients, payments, "carded")
        run.card_statements = _statements(carded, clients[0], 50, "carded")
        run.runs.append(carded)
        log(f"  with cards: {carded.per_second:.0f}/s, queries {max(carded.queries)}")

        hot = DebitRun("payments on one wallet (with its card)", 1)
        _debits(hot, clients[:1], payments, "hot")
        _statements(hot, clients[0], 50, "hot")
        run.runs.append(hot)
        log(f"  one wallet: {hot.per_second:.0f}/s")

        wallet = Wallet.objects.get(client=clients[0])
        run.quote_entries = wallet.entries.count()
        for _ in range(30):
            t0 = time.perf_counter()
            wallet_refunds.wallet_refund_quote(wallet)
            run.quote_ms.append((time.perf_counter() - t0) * 1000)


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if not math.isnan(value) else "—"


def loyalty_generated_section(run: LoyaltyRun, machine: dict[str, str], postgres: str) -> str:
    lines = [
        "## Results: (f) stored-value payments",
        "",
        f"Generated {run.started} by `python -m bench.run --loyalty only` ({run.minutes:.1f} min for this part).",
        "",
        f"* Machine: `{machine['host']}`, nproc {machine['nproc']}, RAM {machine['ram']}, CPU {machine['cpu']}; "
        f"load average (1/5/15 min) {run.load_start} at the start, {run.load_end} at the end",
        f"* PostgreSQL {postgres}; one Python thread (one core) calling `wallet_debit` in-process, each payment its "
        "own transaction committed to disk, as the till will call it; ¥12.34 each, principal and bonus drawn in "
        "proportion",
        "",
        "| scenario | wallets | payments | per second | target | ratio | median | p95 | SQL statements per payment | "
        "+ SET search_path |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in run.runs:
        lines.append(
            f"| {r.label} | {r.wallets:,} | {r.payments:,} | {r.per_second:,.0f} | ≥ {TARGET_PER_SECOND} | "
            f"{r.per_second / TARGET_PER_SECOND:.1f}× | {_ms(statistics.median(r.latencies_ms))} | "
            f"{_ms(r.percentile(0.95))} | {max(r.queries)} (target ≤ {TARGET_QUERIES}) | {max(r.search_path_sets)} |"
        )
    lines += [
        "",
        "What one payment sends, BEGIN and COMMIT included (django-tenants also sends `SET search_path` before "
        "each statement, a round trip each, counted apart in the table):",
        "",
        *[f"{i}. `{sql[:160]}{'…' if len(sql) > 160 else ''}`" for i, sql in enumerate(run.statements, 1)],
        "",
        (
            "With a member card the payment sends the same statements: the card's status and expiry are mirrored "
            "on the wallet row by triggers, so the locked row carries them."
            if len(run.card_statements) == len(run.statements)
            else "With a member card:\n\n"
            + "\n".join(f"{i}. `{sql[:160]}`" for i, sql in enumerate(run.card_statements, 1))
        ),
        "",
        f"Refund quote (`wallet_refund_quote`, one aggregate over the ledger) on a wallet with "
        f"{run.quote_entries:,} entries: median {_ms(statistics.median(run.quote_ms))} of {len(run.quote_ms)}.",
        "",
    ]
    return "\n".join(lines)
