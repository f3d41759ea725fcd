"""Celery tasks of loyalty, one module per topic; importing them here registers them with autodiscovery
(which looks for ``<app>.tasks``)."""

from apps.loyalty.tasks_coupons import coupons_birthday_issue_salon
from apps.loyalty.tasks_tiers import tiers_evaluate_salon

__all__ = ["coupons_birthday_issue_salon", "tiers_evaluate_salon"]
