"""Celery tasks of coupons (LOY-6)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="loyalty.coupons_birthday_issue")
def coupons_birthday_issue_salon() -> int:
    """Issue the birthday-rule coupons of the salon whose schema the task runs in (nightly: the first run
    of a month issues them, later runs reach clients added since; each client once a month)."""
    from apps.loyalty.services.coupon_rules import coupons_birthday_issue

    return coupons_birthday_issue()
