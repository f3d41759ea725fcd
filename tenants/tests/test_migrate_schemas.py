"""migrate_schemas keeps the template and the pool current and skips schemas that already are."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.db import connection

from tenants import provisioning
from tenants.models import PoolSchema


def _leaf_recorded(schema: str, leaf: tuple[str, str]) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT 1 FROM "{schema}".django_migrations WHERE app = %s AND name = %s', list(leaf))
        return cursor.fetchone() is not None


def _roll_back_one_leaf_migration(schema: str) -> tuple[str, str]:
    """Make a schema one migration behind, as if it had been created before that migration existed:
    unapply (for real, reverse operations included) a tenant migration nothing else depends on."""
    from django.apps import apps
    from django.conf import settings
    from django.db.migrations.executor import MigrationExecutor

    tenant_labels = {config.label for config in apps.get_app_configs() if config.name in settings.TENANT_APPS}
    connection.set_schema(schema)
    try:
        executor = MigrationExecutor(connection)
        graph = executor.loader.graph
        leaf = sorted(node for node in graph.leaf_nodes() if node[0] in tenant_labels)[-1]
        parents = sorted(p.key for p in graph.node_map[leaf].parents if p.key[0] == leaf[0])
        executor.migrate([parents[-1] if parents else (leaf[0], None)])
    finally:
        connection.set_schema_to_public()
    assert not _leaf_recorded(schema, leaf)
    return leaf


def test_noop_run_skips_every_current_schema(alpha, beta):
    out = StringIO()
    call_command("migrate_schemas", interactive=False, verbosity=1, stdout=out)
    summary = out.getvalue().strip().splitlines()[-1]
    assert "migrated 0, already current 3" in summary  # template + alpha + beta


def test_behind_pool_schema_is_migrated_and_restamped(alpha):
    # given a pool schema that missed a migration (and so carries a stale digest)
    provisioning.pool_refill(target=1)
    pool = PoolSchema.objects.get()
    leaf = _roll_back_one_leaf_migration(pool.schema_name)
    PoolSchema.objects.update(migrations_digest="old")
    assert not provisioning.schema_is_current(pool.schema_name)
    # when
    out = StringIO()
    call_command("migrate_schemas", interactive=False, verbosity=1, stdout=out)
    # then it was migrated, the others skipped, and it can be handed out again
    assert "migrated 1, already current 3" in out.getvalue()
    assert provisioning.schema_is_current(pool.schema_name)
    assert _leaf_recorded(pool.schema_name, leaf)
    assert PoolSchema.objects.get().migrations_digest == provisioning.current_digest()


def test_behind_template_and_salon_are_migrated(alpha):
    leaf = _roll_back_one_leaf_migration(provisioning.TEMPLATE_SCHEMA)
    _roll_back_one_leaf_migration(alpha.schema)
    out = StringIO()
    call_command("migrate_schemas", interactive=False, verbosity=1, stdout=out)
    assert "migrated 2," in out.getvalue()
    assert _leaf_recorded(provisioning.TEMPLATE_SCHEMA, leaf)
    assert _leaf_recorded(alpha.schema, leaf)


def test_pool_refill_task_fills_to_the_target(alpha, settings):
    from tenants.tasks import pool_refill

    settings.SALON_POOL_SIZE = 2
    assert pool_refill.delay().get() == 2
    assert PoolSchema.objects.filter(migrations_digest=provisioning.current_digest()).count() == 2
    assert pool_refill.delay().get() == 0
