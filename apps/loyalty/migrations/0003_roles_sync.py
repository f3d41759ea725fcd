from django.db import migrations


def sync_roles(apps, schema_editor):
    """Give the role groups of every existing salon the new ``manage_loyalty`` permission (new salons get
    it at signup). Uses the service on purpose: the matrix in apps.core.roles is the one truth."""
    if schema_editor.connection.schema_name == "public":
        return
    from apps.core.services import roles_sync

    roles_sync()


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0002_ledgers_append_only"), ("core", "0004_manage_loyalty_permission")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
