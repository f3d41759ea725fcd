"""Salon schemas: the template, the warm pool, copying and the stock migrate path.

A signup never runs migrations. ``TENANT_BASE_SCHEMA`` (the template) is
migrated by ``migrate_schemas``; pool schemas are copies of it (its dumped
script replayed, see tenants.template_script), made ahead of time by the
``tenants.pool_refill`` task. A signup takes a pool schema (a row lock and a
DELETE) or, when the pool is empty, copies the template inside its own
transaction. PostgreSQL DDL is transactional, so a failed signup leaves no
schema behind either way.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from functools import lru_cache

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.clone import CloneSchema
from django_tenants.utils import get_public_schema_name, schema_exists

from tenants import template_script
from tenants.db import tenant_connection
from tenants.models import PoolSchema

logger = logging.getLogger(__name__)

TEMPLATE_SCHEMA: str = settings.TENANT_BASE_SCHEMA


def new_schema_name() -> str:
    """Opaque, unguessable schema names: a salon may rename its subdomain, the schema stays."""
    return f"s_{secrets.token_hex(6)}"


@lru_cache(maxsize=1)
def expected_tenant_migrations() -> frozenset[tuple[str, str]]:
    """Every migration a salon schema must hold for the code that is running (read from disk once)."""
    from django.db.migrations.loader import MigrationLoader

    tenant_labels = _tenant_app_labels()
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return frozenset(key for key in loader.graph.nodes if key[0] in tenant_labels)


def _tenant_app_labels() -> set[str]:
    from django.apps import apps

    labels = set()
    for entry in settings.TENANT_APPS:
        for config in apps.get_app_configs():
            if config.name == entry:
                labels.add(config.label)
    return labels


def migrations_digest(applied: frozenset[tuple[str, str]] | set[tuple[str, str]]) -> str:
    payload = "\n".join(f"{app}.{name}" for app, name in sorted(applied))
    return hashlib.sha256(payload.encode()).hexdigest()


def current_digest() -> str:
    return migrations_digest(expected_tenant_migrations())


def schema_applied_migrations(schema_name: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'"{schema_name}".django_migrations'])
        if cursor.fetchone()[0] is None:
            return set()
        cursor.execute(f'SELECT app, name FROM "{schema_name}".django_migrations')
        return {(app, name) for app, name in cursor.fetchall()}


def template_digest() -> str:
    """Digest of what the template schema holds now (keys its dumped script)."""
    return migrations_digest(schema_applied_migrations(TEMPLATE_SCHEMA))


def schema_is_current(schema_name: str) -> bool:
    return expected_tenant_migrations() <= schema_applied_migrations(schema_name)


def schema_create_by_migrating(schema_name: str, *, verbosity: int = 0) -> None:
    """django-tenants' stock path: CREATE SCHEMA and run every tenant migration (slow; template only)."""
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema_name}"')
    call_command(
        "migrate_schemas",
        tenant=True,
        schema_name=schema_name,
        interactive=False,
        verbosity=verbosity,
        skip_current=False,
    )
    tenant_connection.set_schema_to_public()


def template_ensure(*, verbosity: int = 0) -> None:
    """Create the template schema if missing. Keeping it current is migrate_schemas' job."""
    if schema_exists(TEMPLATE_SCHEMA):
        return
    logger.info("creating template schema", extra={"schema": TEMPLATE_SCHEMA})
    schema_create_by_migrating(TEMPLATE_SCHEMA, verbosity=verbosity)


def schema_clone_from_template(schema_name: str) -> None:
    """Copy the template schema (tables, sequences, constraints, triggers and its rows) into a new schema.

    Replays the template's dumped script (tenants.template_script); falls back to
    django-tenants' catalog-walking clone_schema when no dump can be made. Runs inside the
    caller's transaction when there is one, so a failure leaves no schema.
    """
    if not schema_exists(TEMPLATE_SCHEMA):
        raise RuntimeError(f"Template schema {TEMPLATE_SCHEMA!r} is missing: run `manage.py migrate_schemas` first.")
    script = template_script.script_for(template_digest())
    if script is None:
        CloneSchema().clone_schema(TEMPLATE_SCHEMA, schema_name, "DATA", set_connection=False)
    else:
        template_script.replay(script, schema_name)


def template_script_refresh() -> None:
    """Drop scripts of older template states and dump the current one (after migrating the template)."""
    from tenants.models import TemplateScript

    digest = template_digest()
    TemplateScript.objects.exclude(migrations_digest=digest).delete()
    template_script.script_for(digest)


def pool_claim() -> str | None:
    """Take one ready schema from the pool, or None if the pool is empty.

    Must run inside the signup transaction: SKIP LOCKED lets concurrent signups
    take different schemas, and a rollback puts the schema back in the pool.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("pool_claim must run inside a transaction")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM "{get_public_schema_name()}".tenants_poolschema
             WHERE id = (SELECT id FROM "{get_public_schema_name()}".tenants_poolschema
                          WHERE migrations_digest = %s
                          ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING schema_name
            """,
            [current_digest()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


_POOL_LOCK_KEY = 0x5A1_0700  # pg_advisory lock id: one refill at a time across all workers


def pool_refill(*, target: int | None = None) -> int:
    """Top the pool up to ``target`` ready schemas (SALON_POOL_SIZE). Returns how many were added."""
    target = settings.SALON_POOL_SIZE if target is None else target
    tenant_connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_POOL_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return 0
    added = 0
    try:
        template_ensure()
        digest = current_digest()
        if not schema_is_current(TEMPLATE_SCHEMA):
            logger.warning("template schema is behind the code; run migrate_schemas before refilling the pool")
            return 0
        while PoolSchema.objects.filter(migrations_digest=digest).count() < target:
            name = new_schema_name()
            with transaction.atomic():
                schema_clone_from_template(name)
                PoolSchema.objects.create(schema_name=name, migrations_digest=digest)
            added += 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_POOL_LOCK_KEY])
    return added


def schema_drop(schema_name: str) -> None:
    """Drop a schema for good (used for stale pool schemas and by tests/benchmarks on their own salons)."""
    if schema_name in (get_public_schema_name(), TEMPLATE_SCHEMA):
        raise ValueError(f"refusing to drop {schema_name}")
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')
