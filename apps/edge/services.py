"""Writes of print jobs: queue one (once, however often "print" is pressed), number the copies asked for,
and move a job through its statuses as the edge agent reports them."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.db import salon_name, salon_timezone
from apps.core.models import Location, User
from apps.core.services import audit_record
from apps.edge.errors import EdgeError, edge_error
from apps.edge.models import TRANSITIONS, PrintJob, PrintJobEvent, PrintJobKind, PrintJobStatus
from apps.edge.rendering import PayloadError, payload_clean, render_text


def _checked(*, kind: str, location: Location, reference: str, printer: str, payload: Any) -> dict[str, Any]:
    if kind not in PrintJobKind.values:
        raise edge_error(EdgeError.INVALID_KIND)
    if not location.is_active:
        raise edge_error(EdgeError.INACTIVE_LOCATION)
    if not reference or len(reference) > 100:
        raise edge_error(EdgeError.INVALID, field="reference")
    if len(printer) > 100:
        raise edge_error(EdgeError.INVALID, field="printer")
    try:
        return payload_clean(payload)
    except PayloadError as exc:
        raise edge_error(EdgeError.INVALID_PAYLOAD, message=f"{_('The content to print is not valid')}: {exc}")


def _with_copy_title(payload: dict[str, Any], number: int) -> dict[str, Any]:
    """A copy says so at the top, so a reprinted receipt is never taken for a second sale."""
    title = payload.get("copy_title") or "COPY"
    marker = {"type": "text", "text": f"*** {title} {number} ***", "align": "center", "bold": True, "size": "normal"}
    return {**payload, "copy": number, "lines": [marker, *payload["lines"]]}


def _insert(**fields: Any) -> PrintJob | None:
    """Insert a job and its first event; None when a concurrent insert of the same key or copy won (the
    savepoint keeps the caller's transaction usable)."""
    try:
        with transaction.atomic():
            job = PrintJob.objects.create(**fields)
    except IntegrityError:
        return None
    PrintJobEvent.objects.create(job=job, status=job.status, actor=fields.get("created_by"))
    return job


def _replay(job: PrintJob) -> PrintJob:
    job.is_replay = True
    return job


@transaction.atomic
def print_job_queue(
    *,
    kind: str,
    location: Location,
    payload: dict[str, Any],
    reference: str,
    copy: bool = False,
    idempotency_key: str | None = None,
    printer: str = "",
    acting_user: User | None = None,
) -> PrintJob:
    """Queue a print job for ``location``'s printer. The original of a (kind, reference) is queued once:
    asking again returns it unchanged (``is_replay``), so "print" pressed twice prints once. ``copy=True``
    asks for another on purpose: it is numbered after the copies before it and says so on the paper (the
    original is queued first if there is none yet). A request repeated with the same ``idempotency_key``
    returns the job it queued the first time."""
    clean = _checked(kind=kind, location=location, reference=reference, printer=printer, payload=payload)
    if idempotency_key:
        if len(idempotency_key) > 120:
            raise edge_error(EdgeError.INVALID, field="idempotency_key")
        found = PrintJob.objects.filter(idempotency_key=idempotency_key).first()
        if found is not None:
            return _replay(found)
    actor = acting_user if acting_user is not None and acting_user.pk else None
    fields = {"kind": kind, "location": location, "printer": printer, "reference": reference, "created_by": actor}
    original = PrintJob.objects.filter(kind=kind, reference=reference, copy_number=0).first()
    if original is None:
        job = _insert(
            **fields,
            payload=clean,
            text=render_text(clean),
            idempotency_key=idempotency_key or f"{kind}:{reference}",
        )
        if job is not None:
            return job
        # Someone else's "print" won the insert: theirs is the original.
        original = PrintJob.objects.get(kind=kind, reference=reference, copy_number=0)
        if not copy:
            return _replay(original)
    elif not copy:
        return _replay(original)
    # Copies of one original are numbered while its row is locked, so two reprints at once get 1 and 2.
    PrintJob.objects.select_for_update().filter(pk=original.pk).first()
    last = PrintJob.objects.filter(kind=kind, reference=reference).aggregate(n=Max("copy_number"))["n"] or 0
    number = last + 1
    copy_payload = _with_copy_title(clean, number)
    job = _insert(
        **fields,
        payload=copy_payload,
        text=render_text(copy_payload),
        copy_number=number,
        copy_of=original,
        idempotency_key=idempotency_key or f"{kind}:{reference}:copy:{number}",
    )
    if job is None:  # the same idempotency key, committed by a concurrent request meanwhile
        return _replay(PrintJob.objects.get(idempotency_key=idempotency_key))
    audit_record(
        action="edge.print_copy",
        actor=actor,
        target=job,
        data={"kind": kind, "reference": reference, "copy": number, "original": original.pk},
    )
    return job


@transaction.atomic
def print_job_reprint(*, job: PrintJob, acting_user: User | None, idempotency_key: str | None = None) -> PrintJob:
    """Print another copy of what ``job`` printed (the original's content, numbered as the next copy)."""
    original = job.copy_of if job.copy_of_id else job
    assert original is not None
    return print_job_queue(
        kind=original.kind,
        location=original.location,
        payload=original.payload,
        reference=original.reference,
        copy=True,
        idempotency_key=idempotency_key,
        printer=original.printer,
        acting_user=acting_user,
    )


@transaction.atomic
def print_job_mark(*, job: PrintJob, status: str, error: str = "", acting_user: User | None = None) -> PrintJob:
    """Move a job to ``status`` as the agent reports it (sent, printed, failed) or staff decide (queued
    again, cancelled). The same status again is a repeated acknowledgement and changes nothing; a move
    the job cannot make (a printed job failing) is refused with 409. Every move is kept as an event."""
    if status not in PrintJobStatus.values:
        raise edge_error(EdgeError.INVALID, field="status")
    if len(error) > 300:
        raise edge_error(EdgeError.INVALID, field="error")
    locked = PrintJob.objects.select_for_update().get(pk=job.pk)
    if locked.status == status:
        return _replay(locked)
    if status not in TRANSITIONS[locked.status]:
        raise edge_error(EdgeError.INVALID_TRANSITION)
    now = timezone.now()
    changes: dict[str, Any] = {"status": status}
    if status == PrintJobStatus.SENT:
        changes.update(attempts=F("attempts") + 1, sent_at=now, error="")
    elif status == PrintJobStatus.PRINTED:
        changes.update(printed_at=now, error="")
        if locked.sent_at is None:
            changes.update(sent_at=now, attempts=F("attempts") + 1)
    elif status == PrintJobStatus.FAILED:
        changes.update(error=error or _("The printer did not print it."))
    elif status == PrintJobStatus.QUEUED:
        changes.update(error="")
    PrintJob.objects.filter(pk=locked.pk).update(**changes, updated_at=now)
    actor = acting_user if acting_user is not None and acting_user.pk else None
    PrintJobEvent.objects.create(
        job=locked, status=status, previous_status=locked.status, message=error[:300], actor=actor
    )
    updated = PrintJob.objects.select_related("location").get(pk=locked.pk)
    return updated


def print_job_test(*, location: Location, acting_user: User | None, idempotency_key: str | None = None) -> PrintJob:
    """A test page for ``location``'s printer: the salon, the time, and a line of Chinese and digits, so the
    staff see at once whether the printer prints Chinese."""
    now = timezone.now()
    local = now.astimezone(salon_timezone()).strftime("%Y-%m-%d %H:%M:%S")
    payload = {
        "width": 80,
        "lines": [
            {"type": "text", "text": salon_name() or location.name, "align": "center", "bold": True, "size": "double"},
            {"type": "text", "text": location.name, "align": "center"},
            {"type": "rule", "char": "="},
            {"type": "text", "text": _("Printer test page")},
            {"type": "pair", "left": _("Time"), "right": local},
            {"type": "text", "text": "中文打印测试 ABC abc 0123456789 ¥"},
            {"type": "rule", "char": "-"},
            {"type": "feed", "lines": 2},
            {"type": "cut"},
        ],
    }
    return print_job_queue(
        kind=PrintJobKind.TEST,
        location=location,
        payload=payload,
        reference=f"test:{location.pk}:{now.strftime('%Y%m%d%H%M%S%f')}",
        idempotency_key=idempotency_key,
        acting_user=acting_user,
    )
