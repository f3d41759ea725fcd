"""The daily low-stock digest: one message per day to each active staff member whose role may manage
inventory, listing every product at or below its alert level per location (e-mail when they have an
address, else a text message).

Each message is sent once per salon day: a ``LowStockDigestSent`` row is inserted first with
``ON CONFLICT DO NOTHING`` against its unique (day, staff) constraint, and the message is queued only
if this call inserted the row, in the same transaction. Beat firing twice, or two workers at once,
therefore send one digest."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core.db import salon_name, salon_today
from apps.core.models import User
from apps.core.roles import MATRIX
from apps.inventory import selectors
from apps.inventory.models import ZERO, LowStockDigestSent, StockLevel
from apps.inventory.services._ledger import fmt
from apps.messaging.models import Channel
from apps.messaging.services import message_send

PURPOSE = "inventory_low_stock"
SMS_ITEMS = 8  # a text message lists the first few; the e-mail lists all


def _gate(day: datetime.date, staff: User) -> int | None:
    table = connection.ops.quote_name(LowStockDigestSent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, staff_id, items, created_at) VALUES (%s, %s, 0, %s) "
            "ON CONFLICT ON CONSTRAINT low_stock_digest_once DO NOTHING RETURNING id",
            [day, staff.pk, timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _line(level: StockLevel) -> str:
    return _("%(product)s: %(quantity)s on hand (alert at %(alert)s)") % {
        "product": level.product,
        "quantity": fmt(level.quantity),
        "alert": fmt(level.reorder_level or ZERO),
    }


def digest_text(levels: Sequence[StockLevel], *, day: datetime.date, short: bool) -> tuple[str, str]:
    """(subject, body) of the digest in the active language."""
    salon = salon_name()
    subject = _("Low stock: %(count)s products") % {"count": len(levels)}
    if short:
        items = ", ".join(f"{level.product} ({fmt(level.quantity)})" for level in levels[:SMS_ITEMS])
        more = len(levels) - SMS_ITEMS
        body = _("%(salon)s: low stock: %(items)s") % {"salon": salon, "items": items}
        if more > 0:
            body += " " + _("and %(more)s more.") % {"more": more}
        return subject, body
    parts = [_("%(salon)s — products at or below their alert level on %(day)s:") % {"salon": salon, "day": day}]
    location_id = None
    for level in levels:
        if level.location_id != location_id:
            location_id = level.location_id
            parts.append("")
            parts.append(level.location.name)
        parts.append(f"- {_line(level)}")
    parts.append("")
    parts.append(_("Order more under Inventory → Purchase orders."))
    return subject, "\n".join(parts)


def _recipients() -> list[User]:
    roles = [role for role, granted in MATRIX.items() if "manage_inventory" in granted]
    return list(User.objects.filter(is_active=True, role__in=roles).exclude(email="", phone="").order_by("pk"))


def low_stock_digest_send(*, today: datetime.date | None = None) -> list[LowStockDigestSent]:
    """Send today's digest to each recipient who has not had it yet. Nothing when nothing is low or the
    salon turned the digest off."""
    if not selectors.inventory_settings().low_stock_alerts:
        return []
    levels = list(selectors.low_stock_levels())
    if not levels:
        return []
    day = today or salon_today()
    sent: list[LowStockDigestSent] = []
    for staff in _recipients():
        channel, address = (Channel.EMAIL, staff.email) if staff.email else (Channel.SMS, staff.phone)
        with transaction.atomic():
            gate_id = _gate(day, staff)
            if gate_id is None:
                continue
            with translation.override(staff.language or settings.LANGUAGE_CODE):
                subject, body = digest_text(levels, day=day, short=channel == Channel.SMS)
            delivery = message_send(channel=channel, recipient=address, subject=subject, body=body, purpose=PURPOSE)
            LowStockDigestSent.objects.filter(pk=gate_id).update(delivery=delivery, items=len(levels))
            sent.append(LowStockDigestSent(id=gate_id, day=day, staff=staff, delivery=delivery, items=len(levels)))
    return sent
