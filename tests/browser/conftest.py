"""Browser tests: the real WSGI app on a live port, driven through Debian's Chromium by Playwright.

Why not pytest-django's ``live_server``: it forces ``transactional_db``, whose flush
would truncate the public tables that hold the session's salons (alpha, beta).
Here the server and the test share the real test database with commits, and each
test removes exactly the salons it created (rows and schema).

Playwright's sync API leaves an asyncio loop marked as running in the main thread
while it is started, so Django refuses ORM calls there (SynchronousOnlyOperation).
Database work of the tests therefore goes through :func:`support.db_run` (a short-lived
thread), and Playwright lives only as long as the browser module.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import (
    ACTION_TIMEOUT_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    NAVIGATION_TIMEOUT_MS,
    VIEWPORT,
    LiveSalonServer,
    LiveServer,
    QuietHandler,
    SalonLedger,
    db_run,
    salons_remove,
)

try:
    from playwright.sync_api import expect as _expect
except ImportError:  # browser_available reports it
    pass
else:
    _expect.set_options(timeout=ACTION_TIMEOUT_MS)


# --- availability -----------------------------------------------------------------------------


def _no_browser(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (REQUIRE_BROWSER=1, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_available() -> None:
    """Skip (or fail under REQUIRE_BROWSER=1) when Chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        _no_browser(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _no_browser("the playwright package is not installed (pip install -e '.[dev]')")


# --- live server ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_test_database(django_db_setup: None) -> None:
    """The test database (tests/fixtures.py creates it even when only browser tests are selected).

    Browser tests use neither the django_db mark (it would hold the main thread's connection in a
    transaction while Playwright's loop runs there) nor transactional_db (its flush would empty the
    public tables that hold the session's salons): they commit and clean up after themselves.
    """
    return None


@pytest.fixture(scope="module")
def salon_server(
    browser_available: None, browser_test_database: None, django_db_blocker: Any
) -> Iterator[LiveSalonServer]:
    """The real WSGI application (with static files) on 127.0.0.1 and a free port, in a thread.

    ``localhost`` and ``*.localhost`` reach it through Chromium, which resolves them to the loopback.
    """
    from django.conf import settings
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    from salon_platform.wsgi import application

    assert settings.PLATFORM_DOMAIN == "localhost", "the browser tests address salons as <sub>.localhost"
    with django_db_blocker.unblock():
        server = LiveServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
        server.set_app(StaticFilesHandler(application))
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="browser-server")
        thread.daemon = True
        thread.start()
        try:
            yield LiveSalonServer(port=server.server_address[1])  # listening since the constructor bound it
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
            # Each request thread closes its own DB connections as it ends; wait until they all have.
            stuck = server.join_request_threads(timeout=15)
            if stuck:  # pragma: no cover - only when a request hangs
                pytest.fail(f"{len(stuck)} request thread(s) of the browser test server did not finish")


# --- Chromium ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(salon_server: LiveSalonServer) -> Iterator[Any]:
    """One Chromium per module (set up after the server, so it is closed before the server stops)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:
            _no_browser(f"Chromium at {CHROMIUM} would not start: {exc}")
        try:
            yield chromium
        finally:
            chromium.close()


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """Keep each phase's report on the item, for the page fixture's failure screenshot."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _failed(item: pytest.Item) -> bool:
    reports = item.stash.get(_REPORTS, {})
    return any(r.failed for r in reports.values())


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh context (no cookies) at 1024×768; a full-page screenshot lands in test-artifacts/ on failure."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        if _failed(request.node):
            artifacts = Path(request.config.rootpath) / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid).strip("_")
            try:
                page.screenshot(path=str(artifacts / f"{stem}.png"), full_page=True)
                (artifacts / f"{stem}.html").write_text(page.content(), encoding="utf-8")
            except Exception as exc:  # the page may be gone; the test's own failure matters more
                print(f"could not save the failure screenshot: {exc}")
        context.close()


# --- the salons a test creates ----------------------------------------------------------------


@pytest.fixture
def salon_ledger(salon_server: LiveSalonServer) -> Iterator[SalonLedger]:
    """Removes, at teardown, every salon (rows and schema) the test created; alpha and beta predate it."""
    ledger = SalonLedger()
    yield ledger
    problems = db_run(salons_remove, ledger.before)
    assert not problems, f"cleanup after the browser test: {problems}"


WECHAT_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.49(0x18003130) NetType/WIFI Language/zh_CN"
)


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone-sized page with WeChat's user agent (client pages: member centre, online booking)."""
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT_IPHONE,
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
