"""Writes of receipts (POS-3): queue a paid bill's receipt for the front-desk printer, and send it to the
client as an e-receipt.

``receipt_on_bill_paid`` is what the payment flow calls once a bill is paid: after the payment commits, a
worker sends the e-receipt (when the salon sends them) and queues the receipt for the printer (when the
salon prints on payment). The automatic e-receipt goes out once per bill whatever repeats — the
``EReceipt`` row with the bill's ``bill:<id>:paid`` key is inserted before the message is queued, in the
same transaction, and a unique constraint lets only one in.
"""

from __future__ import annotations

import logging
import secrets

from django.db import IntegrityError, transaction

from apps.core.db import current_schema
from apps.core.models import User
from apps.core.money import fen_to_yuan
from apps.crm.models import Client
from apps.edge.models import PrintJob, PrintJobKind
from apps.edge.rendering import render_text
from apps.edge.services import print_job_queue
from apps.messaging.models import Channel
from apps.messaging.services import message_send
from apps.pos.errors import PosError, pos_error
from apps.pos.models import Bill, EReceipt, EReceiptTrigger
from apps.pos.receipt_terms import receipt_language
from apps.pos.selectors.receipts import (
    RECEIPT_STATUSES,
    Receipt,
    pos_settings_read,
    receipt_bill,
    receipt_build,
    receipt_payload,
)
from apps.scheduling.models import ClientBookingProfile

logger = logging.getLogger(__name__)

E_RECEIPT_PURPOSE = "e_receipt"


def receipt_reference(bill: Bill) -> str:
    return f"bill:{bill.pk}"


def receipt_of(pk: int, *, language: str | None = None, width: int | str | None = None) -> Receipt:
    """The receipt of the bill ``pk``; LookupError when there is no such bill, a 409 when it is not paid."""
    bill = receipt_bill(pk)
    if bill is None:
        raise LookupError(pk)
    if bill.status not in RECEIPT_STATUSES:
        raise pos_error(PosError.RECEIPT_NOT_AVAILABLE)
    return receipt_build(bill=bill, language=language, width=width)


@transaction.atomic
def receipt_print(
    *,
    bill: Bill,
    copy: bool = False,
    printer: str = "",
    idempotency_key: str | None = None,
    acting_user: User | None = None,
    width: int | str | None = None,
    language: str | None = None,
) -> PrintJob:
    """Queue a paid bill's receipt for its location's printer. Printing the same bill again returns the job
    already queued (``is_replay``); ``copy=True`` prints a numbered copy marked 重印 / COPY."""
    receipt = receipt_of(bill.pk, language=language, width=width)
    return print_job_queue(
        kind=PrintJobKind.RECEIPT,
        location=bill.location,
        payload=receipt_payload(receipt),
        reference=receipt_reference(bill),
        copy=copy,
        idempotency_key=idempotency_key,
        printer=printer,
        acting_user=acting_user,
    )


def _recipient(client: Client | None) -> tuple[str, str] | None:
    """(channel, address): WeChat if the client follows the official account, else a text message to the
    phone, else e-mail; None for a walk-in or a client who is no longer one (merged away, erased)."""
    if client is None or not client.is_active:
        return None
    profile = ClientBookingProfile.objects.filter(client=client).only("wechat_openid").first()
    if profile is not None and profile.wechat_openid:
        return Channel.WECHAT, profile.wechat_openid
    if client.phone:
        return Channel.SMS, client.phone
    if client.email:
        return Channel.EMAIL, client.email
    return None


def _balances(receipt: Receipt) -> str:
    t, colon = receipt.terms, receipt.terms["colon"]
    parts = []
    if receipt.points_balance is not None:
        parts.append(f"{t['points_balance']}{colon}{receipt.points_balance:,}")
    if receipt.stored_value_balance is not None:
        parts.append(f"{t['stored_value_balance']}{colon}¥{fen_to_yuan(receipt.stored_value_balance)}")
    return ("，" if receipt.language.startswith("zh") else ", ").join(parts)


def e_receipt_text(receipt: Receipt, channel: str) -> tuple[str, str, dict[str, str] | None]:
    """(subject, body, WeChat template data) of the e-receipt: a short text for a phone, the whole receipt
    for an e-mail."""
    t, colon = receipt.terms, receipt.terms["colon"]
    zh = receipt.language.startswith("zh")
    total = f"¥{fen_to_yuan(receipt.total)}"
    subject = f"{receipt.salon} {t['e_receipt']} {receipt.number}"
    balances = _balances(receipt)
    if channel == Channel.EMAIL:
        return subject, render_text(receipt_payload(receipt)), None
    sep, stop = ("，", "。") if zh else (", ", ". ")
    body = (
        f"{receipt.salon}{t['e_receipt']}{colon}{t['bill_number']} {receipt.number}{sep}"
        f"{t['total']} {total}{sep}{receipt.time}{stop}" + (f"{balances}{stop}" if balances else "") + receipt.footer
    )
    if channel != Channel.WECHAT:
        return subject, body, None
    data = {
        "first": f"{receipt.salon}{t['e_receipt']}",
        "keyword1": receipt.number,
        "keyword2": total,
        "keyword3": receipt.time,
        "keyword4": receipt.location_name,
        "remark": f"{balances}{stop}{receipt.footer}" if balances else receipt.footer,
    }
    return subject, body, data


def _gate(*, bill: Bill, trigger: str, channel: str, key: str, actor: User | None) -> EReceipt | None:
    """Insert the e-receipt row; None when one with the same key (or the bill's automatic one) exists.
    A concurrent insert of the same row waits for the other transaction and then fails here, so only one
    of them goes on to send."""
    try:
        with transaction.atomic():
            return EReceipt.objects.create(
                bill=bill, trigger=trigger, channel=channel, idempotency_key=key, created_by=actor
            )
    except IntegrityError:
        return None


@transaction.atomic
def receipt_send(
    *,
    bill: Bill,
    trigger: str = EReceiptTrigger.MANUAL,
    idempotency_key: str | None = None,
    acting_user: User | None = None,
) -> EReceipt | None:
    """Send a paid bill's receipt to its client through messaging (WeChat, text message or e-mail), in
    the salon's receipt language. The automatic one (``trigger="paid"``) is sent only when the salon
    sends e-receipts and at most once per bill, and silently skips a walk-in; a staff send goes out each
    time it is asked (once per ``idempotency_key``) and says so when there is nobody to send to. Returns
    the e-receipt row (``is_replay`` when it was sent before and nothing went out now), or None when there
    was nothing to send."""
    if trigger not in EReceiptTrigger.values:
        raise pos_error(PosError.INVALID, field="trigger")
    automatic = trigger == EReceiptTrigger.PAID
    if automatic and not pos_settings_read().send_e_receipt:
        return None
    receipt = receipt_of(bill.pk, language=receipt_language())
    recipient = _recipient(bill.client)
    if recipient is None:
        if automatic:
            return None
        raise pos_error(PosError.NO_RECIPIENT)
    channel, address = recipient
    if automatic:
        key = f"{receipt_reference(bill)}:paid"
    else:
        key = idempotency_key or f"{receipt_reference(bill)}:manual:{secrets.token_hex(8)}"
        if len(key) > 120:
            raise pos_error(PosError.INVALID, field="idempotency_key")
    actor = acting_user if acting_user is not None and acting_user.pk else None
    row = _gate(bill=bill, trigger=trigger, channel=channel, key=key, actor=actor)
    if row is None:  # sent before (the bill's automatic one, or this very request): nothing more goes out
        existing = EReceipt.objects.filter(
            **({"bill": bill, "trigger": EReceiptTrigger.PAID} if automatic else {"idempotency_key": key})
        ).first()
        if existing is not None:
            existing.is_replay = True
        return existing
    subject, body, data = e_receipt_text(receipt, channel)
    delivery = message_send(
        channel=channel,
        recipient=address,
        subject=subject,
        body=body,
        purpose=E_RECEIPT_PURPOSE,
        template=E_RECEIPT_PURPOSE if data is not None else None,
        data=data,
    )
    EReceipt.objects.filter(pk=row.pk).update(delivery=delivery)
    row.delivery = delivery
    return row


def receipt_after_payment(*, bill_id: int) -> dict[str, object]:
    """What happens once a bill is paid (run by the worker): the receipt queued for the printer when the
    salon prints on payment, and the e-receipt when it sends them. Each is idempotent, so a repeated run
    prints and sends nothing more; a failure of one is logged and does not stop the other."""
    bill = Bill.objects.select_related("location", "client").filter(pk=bill_id).first()
    done: dict[str, object] = {"bill": bill_id, "printed": None, "sent": None}
    if bill is None or bill.status not in RECEIPT_STATUSES:
        return done
    if pos_settings_read().auto_print_receipt:
        try:
            done["printed"] = receipt_print(bill=bill).pk
        except Exception:  # the printer queue must never cost the client their e-receipt
            logger.exception("queuing the receipt of bill %s failed", bill_id)
    try:
        sent = receipt_send(bill=bill, trigger=EReceiptTrigger.PAID)
        done["sent"] = sent.pk if sent is not None else None
    except Exception:
        logger.exception("sending the e-receipt of bill %s failed", bill_id)
    return done


def receipt_on_bill_paid(*, bill: Bill) -> None:
    """Call from the payment flow when ``bill`` has just been paid, inside its transaction. After commit
    (never for a payment that rolls back) the worker prints and sends the receipt as the salon's till
    settings say (``receipt_after_payment``). Never raises into the payment."""
    from apps.pos.tasks_receipts import receipt_after_payment_task

    schema = current_schema()  # bound now: the hook may run after the connection moved to another salon
    bill_id = bill.pk

    def queue() -> None:
        try:
            receipt_after_payment_task.apply_async(args=[bill_id], headers={"_schema_name": schema})
        except Exception:
            logger.exception("queuing the receipt work of bill %s failed", bill_id)

    transaction.on_commit(queue)
