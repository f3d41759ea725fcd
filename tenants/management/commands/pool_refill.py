from typing import Any

from django.core.management.base import BaseCommand

from tenants import provisioning


class Command(BaseCommand):
    help = "Fill the warm pool of ready salon schemas up to SALON_POOL_SIZE (also run every minute by beat)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--target", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        added = provisioning.pool_refill(target=options["target"])
        self.stdout.write(f"pool: added {added} schema(s)")
