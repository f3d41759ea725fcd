"""Scheduling (SCH-1…15): staff profiles, rosters, resources, appointments, waitlist, walk-ins, rotation.

No staff member and no resource place can be booked twice for overlapping time: PostgreSQL exclusion
constraints (btree_gist) on the active lines and resource holds keep that, whatever the code does.
"""

from apps.scheduling.models.appointments import (
    Appointment,
    AppointmentChannel,
    AppointmentEvent,
    AppointmentLine,
    AppointmentResource,
    AppointmentStatus,
    ClientBookingProfile,
    Deposit,
    DepositMethod,
    DepositStatus,
    ReminderSent,
)
from apps.scheduling.models.profiles import StaffGroup, StaffProfile
from apps.scheduling.models.queues import (
    RotationEntry,
    RotationStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
    WalkIn,
    WalkInStatus,
)
from apps.scheduling.models.resources import Resource, ResourceStatus, ResourceType, ServiceBookingRule
from apps.scheduling.models.rosters import ShiftException, ShiftPattern, StaffCalendarFeed, TimeOff, TimeOffKind
from apps.scheduling.models.settings import SchedulingSettings

__all__ = [
    "Appointment",
    "AppointmentChannel",
    "AppointmentEvent",
    "AppointmentLine",
    "AppointmentResource",
    "AppointmentStatus",
    "ClientBookingProfile",
    "Deposit",
    "DepositMethod",
    "DepositStatus",
    "ReminderSent",
    "Resource",
    "ResourceStatus",
    "ResourceType",
    "RotationEntry",
    "RotationStatus",
    "SchedulingSettings",
    "ServiceBookingRule",
    "ShiftException",
    "ShiftPattern",
    "StaffCalendarFeed",
    "StaffGroup",
    "StaffProfile",
    "TimeOff",
    "TimeOffKind",
    "WaitlistEntry",
    "WaitlistOffer",
    "WaitlistOfferStatus",
    "WaitlistStatus",
    "WalkIn",
    "WalkInStatus",
]
