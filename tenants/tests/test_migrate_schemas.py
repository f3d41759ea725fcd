"""migrate_schemas keeps the template and the pool current and skips schemas that already are."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.db import connection

from tenants import provisioning
from tenants.models import PoolSchema


def _trigger_exists(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND t.tgname = 'core_auditentry_append_only'",
            [schema],
        )
        return cursor.fetchone() is not None


def _roll_back_last_core_migration(schema: str) -> None:
    """Make a schema behind, as if it had been created before core.0002 existed: core.0002 and every
    migration that depends on it (later apps build on core) are unapplied in that schema."""
    from django.db.migrations.executor import MigrationExecutor
    from django_tenants.utils import schema_context

    with schema_context(schema):
        executor = MigrationExecutor(connection)
        executor.migrate([("core", "0001_initial")])
    connection.set_schema_to_public()


def test_noop_run_skips_every_current_schema(alpha, beta):
    out = StringIO()
    call_command("migrate_schemas", interactive=False, verbosity=1, stdout=out)
    summary = out.getvalue().strip().splitlines()[-1]
    assert "migrated 0, already current 3" in summary  # template + alpha + beta


def test_behind_pool_schema_is_migrated_and_restamped(alpha):
    # given a pool schema that missed a migration (and so carries a stale digest)
    provisioning.pool_refill(target=1)
    pool = PoolSchema.objects.get()
    _roll_back_last_core_migration(pool.schema_name)
    PoolSchema.objects.update(migrations_digest="old")
    assert not provisioning.schema_is_current(pool.schema_name)
    # when
    out = StringIO()
    call_command("migrate_schemas", interactive=False, verbosity=1, stdout=out)
    # then it was migrated, the others skipped, and it can be handed out again
    assert "migrated 1, already current 3" in out.getvalue()
    assert provisioning.schema_is_current(pool.schema_name)
    assert _trigger_exists(pool.schema_name)
    assert PoolSchema.objects.get().migrations_digest == provisioning.current_digest()


def test_behind_template_and_salon_are_migrated(alpha):
    _roll_back_last_core_migration(provisioning.TEMPLATE_SCHEMA)
    _roll_back_last_core_migration(alpha.schema)
    out = StringIO()
    call_command("migrate_schemas", interactive=False, verbosity=1, stdout=out)
    assert "migrated 2," in out.getvalue()
    assert _trigger_exists(provisioning.TEMPLATE_SCHEMA)
    assert _trigger_exists(alpha.schema)


def test_pool_refill_task_fills_to_the_target(alpha, settings):
    from tenants.tasks import pool_refill

    settings.SALON_POOL_SIZE = 2
    assert pool_refill.delay().get() == 2
    assert PoolSchema.objects.filter(migrations_digest=provisioning.current_digest()).count() == 2
    assert pool_refill.delay().get() == 0
