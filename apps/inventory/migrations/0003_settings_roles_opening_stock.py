from django.db import migrations
from django.utils import timezone


def settings_row(apps, schema_editor):
    """Every salon has its inventory settings row from the start (negative stock forbidden)."""
    apps.get_model("inventory", "InventorySettings").objects.get_or_create(id=1)


def sync_roles(apps, schema_editor):
    """Give the role groups of every existing salon the new ``manage_inventory`` permission (new salons get
    it at signup). Uses the service on purpose: the matrix in apps.core.roles is the one truth."""
    if schema_editor.connection.schema_name == "public":
        return
    from apps.core.services import roles_sync

    roles_sync()


def opening_stock(apps, schema_editor):
    """A salon that kept a stock figure per product before inventory existed keeps it: each product's
    figure becomes the stock of its first open location, with a counted adjustment in the ledger, so
    ``Product.stock`` is the total over locations from the first day."""
    Product = apps.get_model("catalog", "Product")
    Location = apps.get_model("core", "Location")
    StockLevel = apps.get_model("inventory", "StockLevel")
    StockMovement = apps.get_model("inventory", "StockMovement")
    products = list(Product.objects.filter(stock__gt=0).order_by("pk"))
    location = (
        Location.objects.filter(is_active=True).order_by("pk").first() or Location.objects.order_by("pk").first()
    )
    if not products or location is None:
        return
    now = timezone.now()
    StockLevel.objects.bulk_create(
        [StockLevel(location=location, product=p, quantity=p.stock, updated_at=now) for p in products]
    )
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                location=location,
                product=p,
                kind="adjustment",
                reason="count",
                quantity=p.stock,
                quantity_after=p.stock,
                went_negative=False,
                unit_cost=p.cost or None,
                reference=f"product:{p.pk}",
                idempotency_key=f"opening:{p.pk}",
                line=0,
                note="Stock on hand when inventory started",
                created_at=now,
            )
            for p in products
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_ledger_append_only_and_negative_guard"),
        ("catalog", "0002_price_rule_tier"),
        ("core", "0006_manage_inventory_permission"),
    ]
    operations = [
        migrations.RunPython(settings_row, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
        migrations.RunPython(opening_stock, migrations.RunPython.noop),
    ]
