"""Shared fixtures. Every test module can work with two salons, alpha and beta,
created once per session through the real signup service (cloned schemas, no
per-test migrations); each test runs in a transaction that is rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

PASSWORD = "Passw0rd-x"


@dataclass(frozen=True)
class SalonInfo:
    salon: Any
    host: str
    owner_username: str
    schema: str


@pytest.fixture(scope="session")
def django_db_setup(
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_keepdb: bool,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """Always create the test database, also when only committed-data tests (threads, browser,
    worker process) are selected: pytest-django would otherwise leave the connection on the
    development database for tests that carry no django_db marker."""
    from django.test.utils import setup_databases, teardown_databases

    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set(), keepdb=keepdb
        )
    assert connection.settings_dict["NAME"].startswith("test_"), "tests must never touch a real database"
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=0)


def _signup(name: str, subdomain: str, email: str, phone: str) -> Any:
    from tenants.services import salon_signup

    return salon_signup(
        raw={
            "salon_name": name,
            "subdomain": subdomain,
            "owner_name": f"{name} owner",
            "owner_email": email,
            "owner_phone": phone,
            "password": PASSWORD,
        }
    ).salon


@pytest.fixture(scope="session")
def two_salons(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[SalonInfo, SalonInfo]]:
    with django_db_blocker.unblock():
        a = _signup("Alpha Salon", "alpha", "owner@alpha.test", "+8613811110001")
        b = _signup("Beta Salon", "beta", "owner@beta.test", "+8613822220002")
        connection.set_schema_to_public()
    yield (
        SalonInfo(a, "alpha.localhost", "owner@alpha.test", a.schema_name),
        SalonInfo(b, "beta.localhost", "owner@beta.test", b.schema_name),
    )


def _back_to_public(**_kwargs: Any) -> None:
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _public_schema_and_fresh_routing() -> Iterator[None]:
    """Each test starts on the public schema with no cached host resolutions.

    The test client serves requests in the test's own thread and connection, and
    the routing middleware leaves that connection on the salon's schema; going
    back to public after each request keeps the test body where it started.
    """
    from django.core.signals import request_finished

    from tenants.middleware import tenant_cache_clear

    tenant_cache_clear()
    connection.set_schema_to_public()
    request_finished.connect(_back_to_public, dispatch_uid="tests_back_to_public")
    yield
    request_finished.disconnect(dispatch_uid="tests_back_to_public")
    tenant_cache_clear()
    connection.set_schema_to_public()


def pytest_configure(config: Any) -> None:
    """``SALON_TEST_CLOCK=2026-11-29T23:50+08:00 make test`` runs the suite from that moment, the clock
    ticking on: the way to find a test that only passes at some hours (near the salons' midnight, say)."""
    import datetime
    import os

    clock = os.environ.get("SALON_TEST_CLOCK", "")
    if clock:
        import time_machine

        time_machine.travel(datetime.datetime.fromisoformat(clock), tick=True).start()


@pytest.fixture
def salon_midday() -> Iterator[None]:
    """The clock moved to 12:00 of the salons' day (Asia/Shanghai), still ticking: for tests of what is
    "free now" on a roster, which a run in the last minutes before the salons' midnight would otherwise
    see past every shift's end. It moves the clock of this process only (the live test server included),
    not PostgreSQL's, which the salon's code does not read."""
    import datetime
    import zoneinfo

    import time_machine

    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    noon = datetime.datetime.combine(datetime.datetime.now(shanghai).date(), datetime.time(12), tzinfo=shanghai)
    with time_machine.travel(noon, tick=True):
        yield


@pytest.fixture
def alpha(db: None, two_salons: tuple[SalonInfo, SalonInfo]) -> SalonInfo:
    return two_salons[0]


@pytest.fixture
def beta(db: None, two_salons: tuple[SalonInfo, SalonInfo]) -> SalonInfo:
    return two_salons[1]


@pytest.fixture
def in_alpha(alpha: SalonInfo) -> Iterator[SalonInfo]:
    """Run the test body inside alpha's schema."""
    with schema_context(alpha.schema):
        yield alpha


@pytest.fixture
def alpha_client(alpha: SalonInfo) -> Client:
    return Client(HTTP_HOST=alpha.host)


@pytest.fixture
def beta_client(beta: SalonInfo) -> Client:
    return Client(HTTP_HOST=beta.host)


@pytest.fixture
def public_client(db: None) -> Client:
    return Client(HTTP_HOST="localhost")


def make_staff(info: SalonInfo, *, role: str, username: str, phone: str = "", email: str = "") -> Any:
    from apps.core.services import staff_create

    with schema_context(info.schema):
        return staff_create(
            name=username.title(), role=role, username=username, phone=phone, email=email, password=PASSWORD
        )


def owner_of(info: SalonInfo) -> Any:
    from apps.core.models import User

    with schema_context(info.schema):
        return User.objects.get(username=info.owner_username)


def logged_in_client(info: SalonInfo, username: str) -> Client:
    client = Client(HTTP_HOST=info.host)
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def api_token(info: SalonInfo, username: str) -> str:
    client = Client(HTTP_HOST=info.host)
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]
