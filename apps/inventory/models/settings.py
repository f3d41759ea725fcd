"""The salon's inventory settings: one row per salon schema (id 1, created by migration)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InventorySettings(models.Model):
    """How the salon keeps stock (POS-8)."""

    id = models.BigIntegerField(primary_key=True, default=1, editable=False)
    allow_negative_stock = models.BooleanField(
        _("allow negative stock"),
        default=False,
        help_text=_(
            "Off: a sale or a service that needs more than is on hand is refused. On: it goes through, and "
            "the stock is flagged negative until goods are received or counted."
        ),
    )
    low_stock_alerts = models.BooleanField(
        _("daily low-stock digest"),
        default=True,
        help_text=_("Each morning, staff who manage inventory get one message listing what is low."),
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("inventory settings")
        verbose_name_plural = _("inventory settings")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="inventory_settings_single_row")]

    def __str__(self) -> str:
        return "inventory settings"
