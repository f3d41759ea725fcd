"""Writes of a client's timeline (CRM-5: communications, feedback, complaints and the complaint
workflow) and of follow-up tasks (CRM-6), with the once-only follow-up reminders.

Who may do what is part of the rules kept here: any signed-in staff member records
communications and feedback and works on their own follow-ups (technicians talk to clients
too); changing who owns a complaint, moving someone else's complaint and working on someone
else's follow-ups need ``manage_clients``.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core.db import current_schema, salon_timezone
from apps.core.errors import CoreError, ServiceError
from apps.core.models import User
from apps.core.roles import perm
from apps.core.services import audit_record
from apps.crm.errors import CrmError, crm_error, invalid_choice_message, too_long_message
from apps.crm.models import (
    Channel,
    Client,
    ComplaintStatus,
    FollowUp,
    FollowUpStatus,
    Interaction,
    InteractionKind,
)
from apps.messaging.models import Delivery
from apps.messaging.services import message_send_email

SUMMARY_MAX = 200
PURPOSE_MAX = 200
# A time a moment ahead of the server's clock (a tablet's clock runs fast) is still "now".
CLOCK_LEEWAY = datetime.timedelta(minutes=5)
# Which complaint moves exist (CRM-5); every other one is refused.
COMPLAINT_MOVES: dict[str, set[str]] = {
    ComplaintStatus.OPEN: {ComplaintStatus.HANDLING},
    ComplaintStatus.HANDLING: {ComplaintStatus.RESOLVED},
    ComplaintStatus.RESOLVED: {ComplaintStatus.HANDLING},
}
RATED_KINDS = {InteractionKind.FEEDBACK, InteractionKind.COMPLAINT}
REMINDER_PURPOSE = "follow_up_reminder"


class _Problems:
    """Collects every field error of one request, so a form shows them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.codes: list[Any] = []

    def add(self, code: CrmError, field: str | None = None) -> None:
        error = crm_error(code, field=field)
        self.codes.append(code)
        for name, messages in error.errors.items():
            self.errors.setdefault(name, []).extend(messages)

    def add_message(self, code: Any, field: str, message: str) -> None:
        self.codes.append(code)
        self.errors.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if self.errors:
            raise ServiceError(self.codes[0], next(iter(self.errors.values()))[0], errors=self.errors)


def _may_manage(user: User) -> bool:
    return bool(user.has_perm(perm("manage_clients")))


def _denied() -> ServiceError:
    return crm_error(CrmError.PERMISSION_DENIED)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _check_active_client(client: Client) -> None:
    if not client.is_active:
        raise crm_error(CrmError.CLIENT_INACTIVE)


# --- timeline (CRM-5) ---------------------------------------------------------------------------


@transaction.atomic
def interaction_record(
    *,
    client: Client,
    kind: str,
    summary: str,
    acting_user: User,
    channel: str = Channel.IN_PERSON,
    body: str = "",
    rating: int | None = None,
    occurred_at: datetime.datetime | None = None,
) -> Interaction:
    """Add one entry to an active client's timeline. The summary is required, the time cannot
    be in the future, a rating (a whole number 1–5) belongs to feedback and complaints only,
    and a complaint starts open with no owner."""
    _check_active_client(client)
    problems = _Problems()
    summary = _text(summary)
    if not summary:
        problems.add(CrmError.SUMMARY_REQUIRED)
    elif len(summary) > SUMMARY_MAX:
        problems.add_message(CrmError.SUMMARY_REQUIRED, "summary", too_long_message(SUMMARY_MAX))
    if kind not in InteractionKind.values:
        problems.add_message(CoreError.INVALID, "kind", invalid_choice_message())
    if channel not in Channel.values:
        problems.add_message(CoreError.INVALID, "channel", invalid_choice_message())
    if rating is not None:
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            problems.add(CrmError.INVALID_RATING)
        elif kind in InteractionKind.values and kind not in RATED_KINDS:
            problems.add_message(CrmError.INVALID_RATING, "rating", _("Only feedback and complaints carry a rating."))
    now = timezone.now()
    if occurred_at is None:
        occurred_at = now
    elif timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at, salon_timezone())
    if occurred_at > now + CLOCK_LEEWAY:
        problems.add(CrmError.DATE_IN_FUTURE, "occurred_at")
    problems.raise_any()
    return Interaction.objects.create(
        client=client,
        kind=kind,
        channel=channel,
        summary=summary,
        body=_text(body),
        rating=rating,
        occurred_at=occurred_at,
        recorded_by=acting_user,
        status=ComplaintStatus.OPEN if kind == InteractionKind.COMPLAINT else "",
    )


@transaction.atomic
def interaction_update(
    *, interaction: Interaction, acting_user: User, summary: str | None = None, body: str | None = None
) -> Interaction:
    """Correct the summary or details of an entry. Whoever recorded it may, and anyone with
    ``manage_clients``; the change is audited (the kind, time and workflow are not editable)."""
    locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
    if locked.recorded_by_id != acting_user.pk and not _may_manage(acting_user):
        raise _denied()
    problems = _Problems()
    changes: dict[str, str] = {}
    if summary is not None:
        cleaned = _text(summary)
        if not cleaned:
            problems.add(CrmError.SUMMARY_REQUIRED)
        elif len(cleaned) > SUMMARY_MAX:
            problems.add_message(CrmError.SUMMARY_REQUIRED, "summary", too_long_message(SUMMARY_MAX))
        elif cleaned != locked.summary:
            changes["summary"] = cleaned
    if body is not None and _text(body) != locked.body:
        changes["body"] = _text(body)
    problems.raise_any()
    if changes:
        before = {field: getattr(locked, field) for field in changes}
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.save(update_fields=list(changes))
        audit_record(
            action="crm.interaction_updated",
            actor=acting_user,
            target=locked,
            data={"client": locked.client_id, "changed": sorted(changes), "before": before},
        )
    return locked


def _check_owner(owner: User | None, problems: _Problems) -> None:
    if owner is not None and not owner.is_active:
        problems.add(CrmError.STAFF_INACTIVE, "owner")


@transaction.atomic
def complaint_transition(
    *,
    complaint: Interaction,
    to_status: str,
    acting_user: User,
    owner: User | None = None,
    resolution: str = "",
) -> Interaction:
    """Move a complaint along open → handling → resolved, or reopen a resolved one (back to
    handling). Handling needs an owner (the acting user when none is set or given); resolving
    needs an owner and a resolution. Changing the owner needs ``manage_clients``; otherwise
    the owner moves their own complaint. Every move is audited; a reopen keeps the old
    resolution in the audit entry."""
    # The row lock serialises two people moving the same complaint: the second one sees the
    # first one's status and is checked against it.
    locked = Interaction.objects.select_for_update().get(pk=complaint.pk)
    if locked.kind != InteractionKind.COMPLAINT:
        raise crm_error(CrmError.NOT_A_COMPLAINT)
    if to_status not in COMPLAINT_MOVES.get(locked.status, set()):
        raise crm_error(CrmError.INVALID_TRANSITION)
    new_owner = owner if owner is not None else locked.owner
    if new_owner is None and to_status == ComplaintStatus.HANDLING:
        new_owner = acting_user
    owner_changes = new_owner is not None and new_owner.pk != locked.owner_id
    if not _may_manage(acting_user) and (owner_changes or locked.owner_id != acting_user.pk):
        raise _denied()
    problems = _Problems()
    _check_owner(owner, problems)
    resolution = _text(resolution)
    if to_status == ComplaintStatus.RESOLVED:
        if not resolution:
            problems.add(CrmError.RESOLUTION_REQUIRED)
        if new_owner is None:
            problems.add(CrmError.OWNER_REQUIRED)
    problems.raise_any()

    previous = {"status": locked.status, "owner": locked.owner_id, "resolution": locked.resolution}
    locked.status = to_status
    locked.owner = new_owner
    if to_status == ComplaintStatus.RESOLVED:
        locked.resolution = resolution
        locked.resolved_at = timezone.now()
        locked.resolved_by = acting_user
    elif previous["status"] == ComplaintStatus.RESOLVED:  # reopened: the resolution no longer holds
        locked.resolution = ""
        locked.resolved_at = None
        locked.resolved_by = None
    locked.save(update_fields=["status", "owner", "resolution", "resolved_at", "resolved_by"])
    data: dict[str, Any] = {
        "client": locked.client_id,
        "from": previous["status"],
        "to": to_status,
        "owner": locked.owner_id,
        "previous_owner": previous["owner"],
    }
    if to_status == ComplaintStatus.RESOLVED:
        data["resolution"] = resolution
    if previous["status"] == ComplaintStatus.RESOLVED:
        data["previous_resolution"] = previous["resolution"]
    action = "crm.complaint_reopened" if previous["status"] == ComplaintStatus.RESOLVED else "crm.complaint_moved"
    audit_record(action=action, actor=acting_user, target=locked, data=data)
    return locked


@transaction.atomic
def complaint_assign(*, complaint: Interaction, owner: User, acting_user: User) -> Interaction:
    """Give an open or handled complaint to another active staff member (``manage_clients``);
    audited. A resolved complaint is reopened first."""
    if not _may_manage(acting_user):
        raise _denied()
    locked = Interaction.objects.select_for_update().get(pk=complaint.pk)
    if locked.kind != InteractionKind.COMPLAINT:
        raise crm_error(CrmError.NOT_A_COMPLAINT)
    if locked.status == ComplaintStatus.RESOLVED:
        raise crm_error(CrmError.INVALID_TRANSITION)
    problems = _Problems()
    _check_owner(owner, problems)
    problems.raise_any()
    if locked.owner_id == owner.pk:
        return locked
    previous_owner = locked.owner_id
    locked.owner = owner
    locked.save(update_fields=["owner"])
    audit_record(
        action="crm.complaint_assigned",
        actor=acting_user,
        target=locked,
        data={"client": locked.client_id, "owner": owner.pk, "previous_owner": previous_owner},
    )
    return locked


# --- follow-ups (CRM-6) -------------------------------------------------------------------------


def _salon_today(now: datetime.datetime | None = None) -> datetime.date:
    return (now or timezone.now()).astimezone(salon_timezone()).date()


def _check_assignee(assigned_to: Any, problems: _Problems) -> None:
    if not isinstance(assigned_to, User) or not assigned_to.is_active:
        problems.add(CrmError.STAFF_INACTIVE, "assigned_to")


def _check_due_date(due_date: Any, problems: _Problems) -> None:
    if not isinstance(due_date, datetime.date) or isinstance(due_date, datetime.datetime):
        problems.add_message(CoreError.INVALID, "due_date", _("Enter a valid date."))
    elif due_date < _salon_today():
        problems.add(CrmError.DUE_DATE_IN_PAST)


def _clean_purpose(purpose: Any, problems: _Problems) -> str:
    purpose = _text(purpose)
    if not purpose:
        problems.add(CrmError.PURPOSE_REQUIRED)
    elif len(purpose) > PURPOSE_MAX:
        problems.add_message(CrmError.PURPOSE_REQUIRED, "purpose", too_long_message(PURPOSE_MAX))
    return purpose


@transaction.atomic
def follow_up_create(
    *,
    client: Client,
    assigned_to: User,
    due_date: datetime.date,
    purpose: str,
    acting_user: User,
    channel: str = Channel.PHONE,
) -> FollowUp:
    """Plan a follow-up for an active client: an active staff member, a due date from today
    (the salon's today) on, a purpose and a channel. Anyone may plan one for themselves;
    giving one to someone else needs ``manage_clients``."""
    if isinstance(assigned_to, User) and assigned_to.pk != acting_user.pk and not _may_manage(acting_user):
        raise _denied()
    _check_active_client(client)
    problems = _Problems()
    _check_assignee(assigned_to, problems)
    _check_due_date(due_date, problems)
    purpose = _clean_purpose(purpose, problems)
    if channel not in Channel.values:
        problems.add_message(CoreError.INVALID, "channel", invalid_choice_message())
    problems.raise_any()
    return FollowUp.objects.create(
        client=client,
        assigned_to=assigned_to,
        due_date=due_date,
        purpose=purpose,
        channel=channel,
        created_by=acting_user,
    )


def _lock_open(follow_up: FollowUp, acting_user: User) -> FollowUp:
    """The follow-up, locked (two people completing it at once: one wins, the other is told it
    is closed), if the acting user may work on it and it is still open."""
    locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if locked.assigned_to_id != acting_user.pk and not _may_manage(acting_user):
        raise _denied()
    if locked.status != FollowUpStatus.OPEN:
        raise crm_error(CrmError.FOLLOW_UP_CLOSED)
    return locked


@transaction.atomic
def follow_up_complete(
    *, follow_up: FollowUp, outcome: str, acting_user: User, record_interaction: bool = False
) -> FollowUp:
    """Mark an open follow-up done with its outcome (required). The assignee may, and anyone
    with ``manage_clients``. With ``record_interaction`` the outcome also goes on the client's
    timeline as a communication over the follow-up's channel."""
    locked = _lock_open(follow_up, acting_user)
    outcome = _text(outcome)
    if not outcome:
        raise crm_error(CrmError.OUTCOME_REQUIRED)
    locked.status = FollowUpStatus.DONE
    locked.outcome = outcome
    locked.completed_at = timezone.now()
    locked.completed_by = acting_user
    locked.save(update_fields=["status", "outcome", "completed_at", "completed_by"])
    if record_interaction:
        interaction_record(
            client=locked.client,
            kind=InteractionKind.COMMUNICATION,
            channel=locked.channel,
            summary=locked.purpose[:SUMMARY_MAX],
            body=outcome,
            occurred_at=locked.completed_at,
            acting_user=acting_user,
        )
    return locked


@transaction.atomic
def follow_up_cancel(*, follow_up: FollowUp, acting_user: User, reason: str = "") -> FollowUp:
    """Cancel an open follow-up (the assignee, or ``manage_clients``); the reason, if any, is
    kept as its outcome."""
    locked = _lock_open(follow_up, acting_user)
    locked.status = FollowUpStatus.CANCELLED
    locked.outcome = _text(reason)
    locked.completed_at = timezone.now()
    locked.completed_by = acting_user
    locked.save(update_fields=["status", "outcome", "completed_at", "completed_by"])
    return locked


@transaction.atomic
def follow_up_change(
    *,
    follow_up: FollowUp,
    acting_user: User,
    assigned_to: User | None = None,
    due_date: datetime.date | None = None,
    purpose: str | None = None,
    channel: str | None = None,
) -> FollowUp:
    """Change an open follow-up: reassign it (to an active staff member; giving it to anyone
    but oneself needs ``manage_clients``), reschedule it (not into the past), or edit its
    purpose or channel. A new assignee or date gets its own reminder."""
    locked = _lock_open(follow_up, acting_user)
    if assigned_to is not None and assigned_to.pk != acting_user.pk and not _may_manage(acting_user):
        raise _denied()
    problems = _Problems()
    changed: list[str] = []
    if assigned_to is not None and assigned_to.pk != locked.assigned_to_id:
        _check_assignee(assigned_to, problems)
        locked.assigned_to = assigned_to
        changed.append("assigned_to")
    if due_date is not None and due_date != locked.due_date:
        _check_due_date(due_date, problems)
        locked.due_date = due_date
        changed.append("due_date")
    if purpose is not None:
        cleaned = _clean_purpose(purpose, problems)
        if cleaned != locked.purpose:
            locked.purpose = cleaned
            changed.append("purpose")
    if channel is not None and channel != locked.channel:
        if channel not in Channel.values:
            problems.add_message(CoreError.INVALID, "channel", invalid_choice_message())
        locked.channel = channel
        changed.append("channel")
    problems.raise_any()
    if "assigned_to" in changed or "due_date" in changed:
        locked.reminded_at = None
        changed.append("reminded_at")
    if changed:
        locked.save(update_fields=changed)
    if "assigned_to" in changed:
        audit_record(
            action="crm.follow_up_reassigned",
            actor=acting_user,
            target=locked,
            data={"client": locked.client_id, "assigned_to": assigned_to.pk if assigned_to else None},
        )
    return locked


def follow_up_reassign(*, follow_up: FollowUp, assigned_to: User, acting_user: User) -> FollowUp:
    """Give an open follow-up to another active staff member (see ``follow_up_change``)."""
    return follow_up_change(follow_up=follow_up, assigned_to=assigned_to, acting_user=acting_user)


def follow_up_reschedule(*, follow_up: FollowUp, due_date: datetime.date, acting_user: User) -> FollowUp:
    """Move an open follow-up to another day, today or later (see ``follow_up_change``)."""
    return follow_up_change(follow_up=follow_up, due_date=due_date, acting_user=acting_user)


# --- reminders ----------------------------------------------------------------------------------


def _reminder_hour() -> int:
    return int(getattr(settings, "CRM_FOLLOW_UP_REMINDER_HOUR", 8))


def _my_tasks_address() -> str:
    """Where the reminder sends people: the salon's own domain when the task knows its salon."""
    path = reverse("crm:my_tasks")
    subdomain = getattr(getattr(connection, "tenant", None), "subdomain", "")
    return f"{subdomain}.{settings.PLATFORM_DOMAIN}{path}" if subdomain else path


def follow_up_reminders_send(*, now: datetime.datetime | None = None) -> list[Delivery]:
    """Send each active staff member with an e-mail one message about their open follow-ups due
    today that no reminder has covered yet, from ``CRM_FOLLOW_UP_REMINDER_HOUR`` (salon time)
    on, and stamp those follow-ups as reminded.

    Once only, however often it runs and however many workers run it at the same moment: one
    run at a time per salon (a transaction-level advisory lock; a run that finds it taken
    leaves the work to the one holding it, so nobody gets their list split over two messages),
    and the follow-ups are stamped in the same transaction that queues the messages, so a
    later run no longer matches them. ``FOR UPDATE SKIP LOCKED`` leaves a follow-up someone is
    editing at that moment to the next run.
    """
    now = now or timezone.now()
    local = now.astimezone(salon_timezone())
    if local.hour < _reminder_hour():
        return []
    today = local.date()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [f"{REMINDER_PURPOSE}:{current_schema()}"])
            (acquired,) = cursor.fetchone()
        if not acquired:
            return []
        claimed = list(
            FollowUp.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=FollowUpStatus.OPEN,
                due_date=today,
                reminded_at__isnull=True,
                assigned_to__is_active=True,
            )
            .exclude(assigned_to__email="")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not claimed:
            return []
        FollowUp.objects.filter(pk__in=claimed).update(reminded_at=now)
        by_staff: dict[int, list[FollowUp]] = defaultdict(list)
        staff: dict[int, User] = {}
        for follow_up in (
            FollowUp.objects.filter(pk__in=claimed).select_related("client", "assigned_to").order_by("client__name")
        ):
            by_staff[follow_up.assigned_to_id].append(follow_up)
            staff[follow_up.assigned_to_id] = follow_up.assigned_to
        overdue = dict(
            FollowUp.objects.filter(status=FollowUpStatus.OPEN, due_date__lt=today, assigned_to_id__in=list(staff))
            .values_list("assigned_to_id")
            .annotate(n=Count("pk"))
            .values_list("assigned_to_id", "n")
        )
        address = _my_tasks_address()
        deliveries = []
        for staff_id in sorted(by_staff):
            member = staff[staff_id]
            context = {
                "member": member,
                "follow_ups": by_staff[staff_id],
                "overdue": overdue.get(staff_id, 0),
                "address": address,
                "today": today,
            }
            with translation.override(member.language or settings.LANGUAGE_CODE):
                subject = render_to_string("crm/interactions/reminder_subject.txt", context).strip()
                body = render_to_string("crm/interactions/reminder_email.txt", context)
            deliveries.append(message_send_email(to=member.email, subject=subject, body=body, purpose=REMINDER_PURPOSE))
        return deliveries
