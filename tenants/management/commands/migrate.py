"""`migrate` is `migrate_schemas` here (as in django-tenants), with the template and pool handled."""

from tenants.management.commands.migrate_schemas import Command as MigrateSchemas


class Command(MigrateSchemas):
    pass
