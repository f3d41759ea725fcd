"""The secret address of a staff member's calendar feed (SCH-15)."""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction

from apps.core.models import User
from apps.core.roles import perm
from apps.core.services import audit_record
from apps.scheduling.models import StaffCalendarFeed

# 32 random bytes, URL-safe: 43 characters, far beyond guessing.
TOKEN_BYTES = 32


@transaction.atomic
def calendar_feed_token_reset(*, staff: User, acting_user: User | None) -> StaffCalendarFeed:
    """Give ``staff`` a new secret feed token (creating the feed on first use); the old address stops
    working at once. Staff reset their own; resetting someone else's needs ``manage_staff``."""
    if acting_user is not None and acting_user.pk != staff.pk and not acting_user.has_perm(perm("manage_staff")):
        raise PermissionDenied
    token = secrets.token_urlsafe(TOKEN_BYTES)
    # One statement (INSERT … ON CONFLICT DO UPDATE): two resets at once, or a first use racing a reset,
    # end with one row holding the later token, never with an error.
    StaffCalendarFeed.objects.bulk_create(
        [StaffCalendarFeed(staff=staff, token=token)],
        update_conflicts=True,
        unique_fields=["staff"],
        update_fields=["token"],
    )
    feed = StaffCalendarFeed.objects.get(staff=staff)
    # The token itself is never written to the audit log: it is the secret.
    audit_record(
        action="scheduling.calendar_feed.reset",
        actor=acting_user,
        target=staff,
        data={"staff": staff.name},
    )
    return feed
