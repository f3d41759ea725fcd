from django.db import migrations


def settings_row(apps, schema_editor):
    """Every salon has its booking settings row from the start, so the slot search reads it without
    a get-or-create write."""
    apps.get_model("scheduling", "SchedulingSettings").objects.get_or_create(id=1)


def sync_roles(apps, schema_editor):
    """Give the role groups of every existing salon the new ``manage_schedule`` permission (new salons get
    it at signup). Uses the service on purpose: the matrix in apps.core.roles is the one truth."""
    if schema_editor.connection.schema_name == "public":
        return
    from apps.core.services import roles_sync

    roles_sync()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0002_rosters_resources_appointments"),
        ("core", "0005_manage_schedule_permission"),
    ]
    operations = [
        migrations.RunPython(settings_row, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
