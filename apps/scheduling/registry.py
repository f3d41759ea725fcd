"""What scheduling adds to the client record (crm's registries, filled from SchedulingConfig.ready): the
"Bookings" section of the 360° page, the rows a client merge moves, and the appointments in a
personal-data export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from apps.crm.merge import MergeParticipant, merge_participant_register
from apps.crm.models import Client
from apps.crm.sections import ClientSection, client_section_register
from apps.crm.services.privacy import PersonalDataHolder, personal_data_register
from apps.scheduling.models import Appointment, AppointmentLine, ClientBookingProfile, WaitlistEntry


@dataclass(frozen=True)
class BookingProfileMergeParticipant(MergeParticipant):
    """One booking record per client: the duplicate's moves to a survivor without one; when both have one
    the survivor's counts become the sum and it keeps the stricter flags (blocked, always a deposit); the
    duplicate's record stays behind with the merged-away client. An undo moves a moved record back; a sum
    is not taken apart again (the counts only ever described no-shows that happened)."""

    def move(self, *, source_id: int, target_id: int) -> list[int]:
        # Locked in id order so two merges touching the same pair never wait on each other in a cycle.
        rows = list(
            ClientBookingProfile.objects.select_for_update().filter(client_id__in=[source_id, target_id]).order_by("id")
        )
        theirs = next((p for p in rows if p.client_id == source_id), None)
        ours = next((p for p in rows if p.client_id == target_id), None)
        if theirs is None:
            return []
        if ours is None:
            ClientBookingProfile.objects.filter(pk=theirs.pk).update(client_id=target_id)
            return [theirs.pk]
        ClientBookingProfile.objects.filter(pk=ours.pk).update(
            no_show_count=F("no_show_count") + theirs.no_show_count,
            late_cancel_count=F("late_cancel_count") + theirs.late_cancel_count,
            is_blocked=ours.is_blocked or theirs.is_blocked,
            blocked_reason=ours.blocked_reason or theirs.blocked_reason,
            blocked_at=ours.blocked_at or theirs.blocked_at,
            requires_deposit=ours.requires_deposit or theirs.requires_deposit,
        )
        return []


def _register_merge_participants() -> None:
    for participant in (
        MergeParticipant("scheduling.appointment", Appointment),
        MergeParticipant("scheduling.waitlist_entry", WaitlistEntry),
        BookingProfileMergeParticipant("scheduling.booking_profile", ClientBookingProfile),
    ):
        merge_participant_register(participant)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _export(client: Client) -> dict[str, Any]:
    visits = list(
        Appointment.objects.filter(client=client)
        .order_by("start", "id")
        .values("id", "start", "end", "status", "channel", "notes", "cancel_reason", "created_at", "location__name")
    )
    lines: dict[int, list[dict[str, Any]]] = {}
    for row in (
        AppointmentLine.objects.filter(appointment__client=client)
        .order_by("appointment_id", "position", "id")
        .values("appointment_id", "service__name", "staff__name", "start", "end", "price")
    ):
        lines.setdefault(row["appointment_id"], []).append(
            {k: _plain(v) for k, v in row.items() if k != "appointment_id"}
        )
    profile = ClientBookingProfile.objects.filter(client=client).first()
    return {
        "appointments": [
            {**{k: _plain(v) for k, v in visit.items()}, "lines": lines.get(visit["id"], [])} for visit in visits
        ],
        "booking_profile": {
            "no_show_count": profile.no_show_count,
            "late_cancel_count": profile.late_cancel_count,
            "is_blocked": profile.is_blocked,
            "blocked_reason": profile.blocked_reason,
            "requires_deposit": profile.requires_deposit,
            "reminders_opted_out": profile.reminders_opted_out,
        }
        if profile
        else None,
    }


def _section(request: HttpRequest, client: Client) -> dict[str, Any]:
    from apps.core.roles import perm
    from apps.scheduling.selectors.appointments import client_booking_summary

    summary = client_booking_summary(client)
    return {
        "upcoming": summary.upcoming,
        "recent": summary.recent,
        "profile": summary.profile,
        "can_block": request.user.has_perm(perm("manage_clients")),
    }


def register() -> None:
    _register_merge_participants()
    # Appointments are the salon's business records (who worked when, deposits): an erasure keeps them and
    # crm de-identifies the client row itself, so there is no erase callback.
    personal_data_register(PersonalDataHolder("scheduling", _export))
    client_section_register(
        ClientSection(
            "bookings",
            gettext_lazy("Bookings"),
            "scheduling/section_bookings.html",
            _section,
            order=20,
            permission="book_appointments",
        )
    )
