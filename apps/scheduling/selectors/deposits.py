"""Deposits the till may apply to a visit's bill (SCH-14)."""

from __future__ import annotations

from apps.scheduling.models import Deposit, DepositStatus


def deposit_held(appointment_id: int | None) -> Deposit | None:
    """The deposit held for this appointment, if any (none once returned, forfeited or applied)."""
    if appointment_id is None:
        return None
    return Deposit.objects.filter(appointment_id=appointment_id, status=DepositStatus.HELD).first()
