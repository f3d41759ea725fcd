"""Operations: health checks, OpenAPI, Sentry tagging, structured logs, tenant-aware Celery tasks."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost", "beta.localhost"])
def test_healthz_on_every_host(alpha, beta, host):
    response = Client(HTTP_HOST=host).get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["db"] == "ok"
    assert body["broker"] == "ok"
    assert body["salon"] == (None if host == "localhost" else host.split(".")[0])


def test_healthz_reports_a_broken_broker_without_failing(alpha, settings):
    from salon_platform.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = Client(HTTP_HOST=alpha.host).get("/healthz")
    finally:
        app.conf.broker_url = previous
    assert response.status_code == 200
    assert response.json()["broker"].startswith("error")


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_openapi_schema_and_docs(alpha, host):
    schema = Client(HTTP_HOST=host).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = json.loads(schema.content)
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    if host == "localhost":
        assert "/api/v1/signup/" in paths
    else:
        assert {"/api/v1/auth/token/", "/api/v1/staff/", "/api/v1/locations/", "/api/v1/salon/"} <= set(paths)
    docs = Client(HTTP_HOST=host).get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html  # served by us, not a CDN
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


def test_sentry_events_are_tagged_with_the_tenant(alpha):
    import sentry_sdk

    from salon_platform.observability import init_sentry

    events: list[dict] = []

    class Capture(sentry_sdk.transport.Transport):
        def capture_envelope(self, envelope):  # type: ignore[override]
            for item in envelope.items:
                if item.type == "event":
                    events.append(item.payload.json)

    init_sentry("http://public@127.0.0.1:9/1", environment="test", transport=Capture)
    try:
        with schema_context(alpha.schema):
            sentry_sdk.capture_message("something odd at the till")
        sentry_sdk.capture_message("platform-level message")
        sentry_sdk.flush()
    finally:
        sentry_sdk.init(dsn=None)
    assert [e["tags"]["tenant"] for e in events] == [alpha.schema, "public"]


def test_log_lines_are_json_with_the_tenant(alpha, capsys):
    from salon_platform.logging import JsonFormatter, TenantContextFilter

    logger = logging.getLogger("tests.structured")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(TenantContextFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with schema_context(alpha.schema):
            logger.info("bill paid", extra={"amount": 12800})
        logger.info("on the platform")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    assert [(line["message"], line["tenant"]) for line in lines] == [
        ("bill paid", alpha.schema),
        ("on the platform", "public"),
    ]
    assert lines[0]["amount"] == 12800


def test_request_id_is_returned(alpha_client):
    assert len(alpha_client.get("/healthz")["X-Request-ID"]) == 32
    assert alpha_client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"


def _test_database_url() -> str:
    from urllib.parse import quote

    db = connection.settings_dict
    host = db["HOST"] or ""
    if host.startswith("/"):
        return f"postgresql://{db['USER'] or 'postgres'}@/{db['NAME']}?host={quote(host)}"
    return f"postgresql://{db['USER'] or 'postgres'}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def test_task_runs_in_the_schema_of_the_salon_that_queued_it(two_salons, django_db_blocker, tmp_path):
    """A real Celery worker process on the default broker (kombu's SQLAlchemy transport on the
    same database): the message carries the schema of the salon that queued it.

    Both salons hold a delivery with the same id; the task must send alpha's and leave beta's.
    """
    import os
    import subprocess
    import sys
    import time

    from apps.messaging.models import Delivery
    from apps.messaging.tasks import delivery_send
    from salon_platform.celery import app

    alpha, beta = two_salons
    database_url = _test_database_url()
    created: list[tuple[str, int]] = []
    saved = {k: app.conf[k] for k in ("task_always_eager",)}
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DJANGO_SETTINGS_MODULE": "salon_platform.settings_test",
    }
    worker = None
    log = (tmp_path / "worker.log").open("w")
    with django_db_blocker.unblock():
        try:
            # given one delivery in each salon, with the same id
            for info in (alpha, beta):
                with schema_context(info.schema):
                    Delivery.objects.filter(pk=9001).delete()
                    Delivery.objects.create(
                        pk=9001, channel="email", recipient=f"x@{info.host}", subject="s", body="b", purpose="test"
                    )
                    created.append((info.schema, 9001))
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "salon_platform",
                    "worker",
                    "--pool=solo",
                    "--loglevel=WARNING",
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            # when alpha queues the task from its own schema (through the real broker, not eagerly)
            app.conf.task_always_eager = False
            from salon_platform.settings import _default_broker_url

            with schema_context(alpha.schema), app.connection_for_write(_default_broker_url(database_url)) as broker:
                delivery_send.apply_async(args=[9001], connection=broker)
            states: dict[str, str] = {}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                for schema, pk in created:
                    with schema_context(schema):
                        states[schema] = Delivery.objects.get(pk=pk).status
                if states[alpha.schema] != "queued" or worker.poll() is not None:
                    break
                time.sleep(0.2)
            # then it ran in alpha's schema: alpha's delivery was sent and beta's was not touched
            assert states == {alpha.schema: "sent", beta.schema: "queued"}, (tmp_path / "worker.log").read_text()
        finally:
            app.conf.update(saved)
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=20)
            log.close()
            for schema, pk in created:
                with schema_context(schema):
                    Delivery.objects.filter(pk=pk).delete()
            connection.set_schema_to_public()
            # kombu caches SQLAlchemy engines per URL; close them so the test database can be dropped.
            from kombu.transport.sqlalchemy import Channel

            for engine, _session in list(Channel._engines.values()):
                engine.dispose()
            Channel._engines.clear()


def test_every_model_change_has_its_migration(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_each_request_writes_one_access_log_line_with_the_salon(alpha, caplog):
    caplog.set_level(logging.INFO, logger="salon.access")
    Client(HTTP_HOST=alpha.host).get("/api/v1/meta/", HTTP_X_REQUEST_ID="req-42")
    records = [r for r in caplog.records if r.name == "salon.access"]
    assert len(records) == 1
    record = records[0]
    assert (record.method, record.path, record.status, record.request_id) == ("GET", "/api/v1/meta/", 200, "req-42")
    assert record.tenant == alpha.schema
    assert record.ms >= 0
