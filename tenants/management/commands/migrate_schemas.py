"""migrate_schemas that knows about the template and the warm pool, and skips current schemas.

* The template schema (TENANT_BASE_SCHEMA) is created if missing and migrated
  with every salon, and so are the pool schemas: signup only ever copies
  schemas that match the code.
* A schema that already holds every migration on disk is skipped after one
  cheap query, so a no-op run over thousands of salons takes seconds.
* When several schemas need work they migrate in parallel processes
  (``--executor=multiprocessing``, TENANT_MULTIPROCESSING_MAX_PROCESSES).
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connection
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.migration_executors import get_executor
from django_tenants.utils import get_public_schema_name, schema_exists

from tenants import provisioning
from tenants.db import tenant_connection
from tenants.models import PoolSchema, Salon

PARALLEL_FROM = 4  # below this many pending schemas, forking costs more than it saves


class Command(MigrateSchemasCommand):
    help = "Migrate the public schema, the template, the warm pool and every salon; skip what is current."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--no-skip-current",
            action="store_false",
            dest="skip_current",
            default=True,
            help="Run the migrate command on every schema even when it is already current.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        skip_current = options.pop("skip_current", True)
        targeted = bool(
            options.get("app_label")
            or options.get("migration_name")
            or options.get("fake")
            or options.get("plan")
            or options.get("check_unapplied")
            or options.get("prune")
        )
        options.setdefault("interactive", False)
        # SyncCommon.handle parses --tenant/--shared/--schema into attributes.
        super(MigrateSchemasCommand, self).handle(*args, **options)
        public: str = get_public_schema_name()
        named: str | None = options.get("schema_name")
        if named and named != public:
            # One named schema: behave exactly like django-tenants.
            return super().handle(*args, **options)

        started = time.perf_counter()
        executor_cls = get_executor(codename=self.executor)
        if self.sync_public:
            executor_cls(self.args, self.options).run_migrations(tenants=[public])
        if not self.sync_tenant:
            return None

        tenant_connection.set_schema_to_public()
        if not schema_exists(provisioning.TEMPLATE_SCHEMA):
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{provisioning.TEMPLATE_SCHEMA}"')
        pool = list(PoolSchema.objects.values_list("schema_name", flat=True))
        salons = list(Salon.objects.exclude(schema_name=public).order_by("pk").values_list("schema_name", flat=True))
        schemas = [provisioning.TEMPLATE_SCHEMA, *pool, *salons]
        if skip_current and not targeted:
            pending = [name for name in schemas if not provisioning.schema_is_current(name)]
        else:
            pending = schemas
        skipped = len(schemas) - len(pending)
        if pending:
            codename = self.executor or ("multiprocessing" if len(pending) >= PARALLEL_FROM else "standard")
            get_executor(codename=codename)(self.args, self.options).run_migrations(tenants=list(pending))
            tenant_connection.set_schema_to_public()
            if not targeted:
                PoolSchema.objects.filter(schema_name__in=set(pending) & set(pool)).update(
                    migrations_digest=provisioning.current_digest()
                )
        if not targeted:
            provisioning.template_script_refresh()  # one dump per template state; nothing when it exists
        if int(options.get("verbosity", 1)) >= 1:
            self.stdout.write(
                f"salon schemas: {len(schemas)} ({len(salons)} salons, {len(pool)} pool, 1 template); "
                f"migrated {len(pending)}, already current {skipped}; {time.perf_counter() - started:.2f} s"
            )
        return None
