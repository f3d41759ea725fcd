from django.db import migrations


def settings_row(apps, schema_editor):
    """Every salon has its loyalty settings row from the start, so the payment path reads it with the
    wallet in one statement."""
    apps.get_model("loyalty", "LoyaltySettings").objects.get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0003_roles_sync")]
    operations = [migrations.RunPython(settings_row, migrations.RunPython.noop)]
