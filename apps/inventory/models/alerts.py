"""The daily low-stock digest's gate: one row per staff member and salon day, inserted before the
message is queued, so that beat firing twice sends one digest."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class LowStockDigestSent(models.Model):
    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    staff = models.ForeignKey("core.User", on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(
        "messaging.Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    items = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["day", "staff"], name="low_stock_digest_once")]

    def __str__(self) -> str:
        return f"{self.day} → {self.staff_id}"
