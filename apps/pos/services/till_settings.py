"""The till's settings (POS-1…3): which tenders the salon takes, how receipts look."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.core.models import User
from apps.core.services import audit_record
from apps.pos.errors import PosError, pos_error
from apps.pos.models import PosSettings, ReceiptWidth
from apps.pos.selectors.bills import pos_settings
from apps.pos.services.bills import require, text

SWITCHES = (
    "accepts_cash",
    "accepts_wechat",
    "accepts_alipay",
    "accepts_stored_value",
    "accepts_points",
    "accepts_course_card",
    "send_e_receipt",
)


@transaction.atomic
def pos_settings_update(*, acting_user: User | None, **values: Any) -> PosSettings:
    """Change the till's settings (``manage_settings``), audited with what changed. Unknown names are a
    programming error; wrong values are refused with the field named."""
    require(acting_user, "manage_settings")
    pos_settings()
    row = PosSettings.objects.select_for_update().get(id=1)
    changes: dict[str, list[Any]] = {}
    for name, value in values.items():
        if name in SWITCHES:
            if not isinstance(value, bool):
                raise pos_error(PosError.INVALID, field=name)
        elif name == "receipt_width":
            if value not in ReceiptWidth.values:
                raise pos_error(PosError.INVALID, field=name)
        elif name in ("receipt_header", "receipt_footer"):
            value = text(value, field=name, max_length=200)
        else:
            raise TypeError(name)
        if getattr(row, name) != value:
            changes[name] = [getattr(row, name), value]
            setattr(row, name, value)
    if changes:
        row.save()
        audit_record(action="pos.settings_updated", actor=acting_user, target=row, data={"changes": changes})
    return row
