"""What both fake providers share: a threaded HTTP(S) server on 127.0.0.1, scenarios chosen per payment
code or merchant number (or refund number), a record of the money that moved, and the sending of
notifications.

With a TLS context the server speaks HTTPS only. Paths under one of ``client_certificate_paths`` then
need a client certificate signed by the CA the context trusts, asked for after the request is read (TLS
1.3 post-handshake authentication, the way a server asks for a certificate for some paths only): a client
that sends none, or one of another CA, gets a TLS alert instead of an answer, and nothing is done."""

from __future__ import annotations

import contextlib
import http.client
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

SUCCESS = "success"
USER_PAYING = "user_paying"  # the client confirms on their phone: pending for ``pending_queries`` queries
FAILURE = "failure"  # refused (an expired code, not enough balance …), nothing charged
TIMEOUT = "timeout"  # charged, but the answer comes ``delay`` seconds late (after our client gave up)
SYSTEM_ERROR = "system_error"  # charged, but the answer says the provider had a system error
# A refund under way: answered "processing" for ``pending_queries`` refund queries, then ``refund_status``.
PROCESSING = "processing"


@dataclass
class Scenario:
    kind: str = SUCCESS
    pending_queries: int = 2  # USER_PAYING: queries answered "paying" before the outcome
    then_paid: bool = True  # USER_PAYING: the client confirms (True) or gives up (False) in the end
    error_code: str = ""  # FAILURE: the provider's error code (a typical one when empty)
    error_message: str = ""
    delay: float = 2.0  # TIMEOUT: how late the answer comes
    refund_status: str = "SUCCESS"  # PROCESSING: how the refund ends (WeChat: SUCCESS, CHANGE, REFUNDCLOSE)


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
    # requests refused at TLS for their client certificate (none, or not of the trusted CA), by path
    certificate_refused: list[str] = field(default_factory=list)
    # (path, the client certificate's common name) of each request that presented a trusted one
    client_certificates: list[tuple[str, str]] = field(default_factory=list)

    def charged(self, out_trade_no: str) -> int:
        return sum(m.amount for m in self.movements if m.out_trade_no == out_trade_no and m.what == "charge")

    def charges(self, out_trade_no: str) -> int:
        return sum(1 for m in self.movements if m.out_trade_no == out_trade_no and m.what == "charge")

    def given_back(self, out_trade_no: str) -> int:
        return -sum(m.amount for m in self.movements if m.out_trade_no == out_trade_no and m.what != "charge")


def server_context(*, cert_file: Path, key_file: Path, client_ca_file: Path | None = None) -> ssl.SSLContext:
    """A server's TLS context; with ``client_ca_file`` it can ask for client certificates of that CA after
    the handshake (never during it, so paths that need none work without one)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    if client_ca_file is not None:
        context.load_verify_locations(cafile=client_ca_file)
        context.verify_mode = ssl.CERT_REQUIRED  # once asked for, a certificate must come and verify
        context.post_handshake_auth = True  # ask only when a path needs it (not in the initial handshake)
    return context


def _client_certificate(connection: ssl.SSLSocket, *, wait: float = 5.0) -> bool:
    """Ask the client for its certificate now (TLS 1.3 post-handshake authentication) and wait for it.
    False when the client sent none or one that does not verify: OpenSSL has then sent the client an alert
    (certificate required / unknown CA), which is what the client sees instead of an answer."""
    if connection.getpeercert():
        return True
    try:
        connection.verify_client_post_handshake()
        connection.do_handshake()  # sends the CertificateRequest now
        connection.settimeout(0.02)
        deadline = time.monotonic() + wait
        # The client answers while it waits for our answer; reading processes its certificate (there is no
        # data to read: the request was read already).
        while not connection.getpeercert() and time.monotonic() < deadline:
            try:
                if not connection.recv(1):
                    return False
            except (TimeoutError, ssl.SSLWantReadError):
                continue
    except (ssl.SSLError, OSError):  # no certificate, another CA's, or a client without post-handshake auth
        return False
    finally:
        with contextlib.suppress(OSError):  # the connection is already closed
            connection.settimeout(None)
    return bool(connection.getpeercert())


def _common_name(certificate: Any) -> str:
    for attributes in (certificate or {}).get("subject", ()):
        for key, value in attributes:
            if key == "commonName":
                return str(value)
    return ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a refused handshake or a client that gave up: nothing to print


class FakeServer:
    """A threaded HTTP server on 127.0.0.1 and a random port; ``handle(path, query, body, headers)`` returns
    ``(status, content_type, body, delay)``. With ``tls`` it serves HTTPS, and paths starting with one of
    ``client_certificate_paths`` need a client certificate the context trusts."""

    def __init__(self, *, tls: ssl.SSLContext | None = None, client_certificate_paths: tuple[str, ...] = ()) -> None:
        self.lock = threading.RLock()
        self.ledger = Ledger()
        self.scenarios: dict[str, Scenario] = {}
        self.tls = tls
        self.client_certificate_paths = client_certificate_paths
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                if fake.tls is not None:  # the handshake runs in this request's own thread
                    self.request = fake.tls.wrap_socket(self.request, server_side=True)
                super().setup()

            def do_POST(self) -> None:  # the name http.server calls
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = urlsplit(self.path)
                if fake.tls is not None and parts.path.startswith(fake.client_certificate_paths):
                    assert isinstance(self.connection, ssl.SSLSocket)
                    if not _client_certificate(self.connection):
                        with fake.lock:
                            fake.ledger.certificate_refused.append(parts.path.strip("/"))
                        self.close_connection = True
                        return
                    with fake.lock:
                        fake.ledger.client_certificates.append(
                            (parts.path.strip("/"), _common_name(self.connection.getpeercert()))
                        )
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

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name=type(self).__name__, daemon=True)

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def certificate_refusals(self, count: int, *, timeout: float = 5.0) -> list[str]:
        """The paths refused for their client certificate, once at least ``count`` are recorded (the client
        sees the TLS alert a moment before this server's thread records it)."""
        deadline = time.monotonic() + timeout
        while len(self.ledger.certificate_refused) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        with self.lock:
            return list(self.ledger.certificate_refused)

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
