"""Signals scheduling sends after a booking change has committed, for the parts that react to it
(reminders and confirmations, the waitlist). Sent through ``transaction.on_commit`` by the booking
services only, never from ``save()``.

``appointment_changed(sender=Appointment, appointment=<Appointment>, kind=<str>, data=<dict>)`` where
kind is one of: booked, rescheduled, confirmed, arrived, started, finished, cancelled, no_show.
For ``rescheduled`` ``data`` holds the previous ``start``/``end`` (ISO strings) and the previous lines.
"""

from __future__ import annotations

from django.dispatch import Signal

appointment_changed = Signal()
