"""Celery tasks of the waitlist (SCH-9): offering freed slots, closing old offers and entries."""

from __future__ import annotations

import datetime

from celery import shared_task


@shared_task(name="scheduling.waitlist_offers_make")
def waitlist_offers_make_task(location_id: int, date: str) -> int:
    """Offer the slots freed at a location on a date to its waiting entries (queued when a booking
    there is cancelled, moved or missed). Returns how many offers were made."""
    from apps.core.models import Location
    from apps.scheduling.services.waitlist import waitlist_offers_make

    location = Location.objects.filter(pk=location_id).first()
    if location is None:
        return 0
    return len(waitlist_offers_make(location=location, date=datetime.date.fromisoformat(date)))


@shared_task(name="scheduling.waitlist_expire")
def waitlist_expire_salon() -> int:
    """Close the salon's offers past their time and entries of past dates (every few minutes)."""
    from apps.scheduling.services.waitlist import waitlist_expire

    offers, entries = waitlist_expire()
    return offers + entries
