"""What both fake providers share: a threaded HTTP server on 127.0.0.1, scenarios chosen per payment
code or merchant number, a record of the money that moved, and the sending of notifications."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

SUCCESS = "success"
USER_PAYING = "user_paying"  # the client confirms on their phone: pending for ``pending_queries`` queries
FAILURE = "failure"  # refused (an expired code, not enough balance …), nothing charged
TIMEOUT = "timeout"  # charged, but the answer comes ``delay`` seconds late (after our client gave up)
SYSTEM_ERROR = "system_error"  # charged, but the answer says the provider had a system error


@dataclass
class Scenario:
    kind: str = SUCCESS
    pending_queries: int = 2  # USER_PAYING: queries answered "paying" before the outcome
    then_paid: bool = True  # USER_PAYING: the client confirms (True) or gives up (False) in the end
    error_code: str = ""  # FAILURE: the provider's error code (a typical one when empty)
    error_message: str = ""
    delay: float = 2.0  # TIMEOUT: how late the answer comes


@dataclass
class Movement:
    """Money that moved at the provider: a charge (positive) or a refund / reversal (negative)."""

    out_trade_no: str
    amount: int
    what: str  # "charge", "refund:<number>", "reversal"


@dataclass
class Ledger:
    """What the fake has charged and given back; tests assert money moved exactly once."""

    movements: list[Movement] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # requests refused for their signature
    calls: list[str] = field(default_factory=list)  # every request by method / path

    def charged(self, out_trade_no: str) -> int:
        return sum(m.amount for m in self.movements if m.out_trade_no == out_trade_no and m.what == "charge")

    def charges(self, out_trade_no: str) -> int:
        return sum(1 for m in self.movements if m.out_trade_no == out_trade_no and m.what == "charge")

    def given_back(self, out_trade_no: str) -> int:
        return -sum(m.amount for m in self.movements if m.out_trade_no == out_trade_no and m.what != "charge")


class FakeServer:
    """A threaded HTTP server on 127.0.0.1 and a random port; ``handle(path, query, body, headers)`` returns
    ``(status, content_type, body, delay)``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ledger = Ledger()
        self.scenarios: dict[str, Scenario] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # the name http.server calls
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = urlsplit(self.path)
                status, content_type, answer, delay = fake.handle(parts.path, parts.query, body, dict(self.headers))
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the client gave up waiting (the timeout scenario)
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name=type(self).__name__, daemon=True)

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def scenario(self, key: str, scenario: Scenario) -> None:
        """Choose what happens to the payment with this payment code or merchant number (or refund number)."""
        with self.lock:
            self.scenarios[key] = scenario

    def scenario_for(self, *keys: str) -> Scenario:
        with self.lock:
            for key in keys:
                if key and key in self.scenarios:
                    return self.scenarios[key]
        return Scenario()

    def handle(self, path: str, query: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, bytes, float]:
        raise NotImplementedError


def post(
    url: str, body: bytes, content_type: str, *, resolve: dict[str, str] | None = None, timeout: float = 10.0
) -> tuple[int, bytes]:
    """POST ``body`` to ``url`` the way a provider delivers a notification. ``resolve`` maps host names to
    addresses (like curl --resolve), for salon hosts such as ``alpha.localhost`` that only browsers resolve."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    connection = http.client.HTTPConnection((resolve or {}).get(host, host), parts.port or 80, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers={"Content-Type": content_type, "Host": parts.netloc})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def deliver(times: int, send: Callable[[], tuple[int, bytes]], *, concurrently: bool) -> list[tuple[int, bytes]]:
    """Send a notification ``times`` times, one after the other or all at once (real threads)."""
    if not concurrently:
        return [send() for _ in range(times)]
    barrier = threading.Barrier(times)
    results: list[Any] = [None] * times

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        try:
            results[index] = send()
        except Exception as exc:  # reported to the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
