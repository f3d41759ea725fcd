"""Checks shared by loyalty's services. Each raises a named LoyaltyError before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from apps.core.models import User
from apps.core.money import MAX_AMOUNT
from apps.core.roles import perm
from apps.core.services import audit_record
from apps.crm.models import Client
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import LoyaltySettings

# Keys are stored in 100-character columns; services may suffix one (":refund") for a second row.
MAX_KEY_LENGTH = 90
MAX_POINTS = 1_000_000_000


def loyalty_settings() -> LoyaltySettings:
    """The salon's settings row, created with defaults the first time it is needed."""
    settings_row, _created = LoyaltySettings.objects.get_or_create(id=1)
    return settings_row


def amount(value: Any, *, field: str = "amount", limit: int | None = None) -> int:
    """Money in fen, more than zero; above ``limit`` (the salon's per-transaction cap) is refused."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > MAX_AMOUNT:
        raise loyalty_error(LoyaltyError.INVALID_AMOUNT, field=field)
    if limit is not None and value > limit:
        raise loyalty_error(LoyaltyError.AMOUNT_OVER_LIMIT, field=field)
    return value


def amount_or_zero(value: Any, *, field: str) -> int:
    """Money in fen, zero allowed (a bonus, a minimum spend)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > MAX_AMOUNT:
        raise loyalty_error(LoyaltyError.INVALID_AMOUNT, field=field)
    return value


def points(value: Any, *, field: str = "points") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > MAX_POINTS:
        raise loyalty_error(LoyaltyError.INVALID_POINTS, field=field)
    return value


def key(value: Any) -> str:
    """An idempotency key: the caller's name for this one operation, so that a replay applies it once."""
    value = "" if value is None else str(value).strip()
    if not value:
        raise loyalty_error(LoyaltyError.KEY_REQUIRED)
    if len(value) > MAX_KEY_LENGTH or "\x00" in value:
        raise loyalty_error(LoyaltyError.TEXT_TOO_LONG, field="idempotency_key")
    return value


def text(
    value: Any, *, field: str, model: type[models.Model], required: bool = False, model_field: str | None = None
) -> str:
    """A stripped string that fits ``model``'s column (``model_field``, when the input's name differs)."""
    value = "" if value is None else str(value).strip()
    if "\x00" in value:
        raise loyalty_error(LoyaltyError.TEXT_TOO_LONG, field=field)
    if required and not value:
        code = LoyaltyError.NAME_REQUIRED if field == "name" else LoyaltyError.REASON_REQUIRED
        raise loyalty_error(code, field=field)
    max_length = getattr(model._meta.get_field(model_field or field), "max_length", None)
    if max_length is not None and len(value) > max_length:
        raise loyalty_error(LoyaltyError.TEXT_TOO_LONG, field=field)
    return value


def active_client(client: Client) -> Client:
    if not client.is_active:
        raise loyalty_error(LoyaltyError.CLIENT_INACTIVE)
    return client


def require_permission(user: User | None, codename: str) -> None:
    """Staff actions check the role here as well as in the view: the API and tasks call services too."""
    if user is not None and not user.has_perm(perm(codename)):
        raise loyalty_error(LoyaltyError.PERMISSION_DENIED)


@dataclass(frozen=True)
class Verification:
    """How a deduction of stored value, points or course sessions was authorised (LOY-8).

    ``code_verified``: the client gave the one-time code sent to their phone (checked by
    ``redemption_code_check`` before the deduction's transaction). ``override_reason``: a manager
    skipped the code and says why; the override is audited."""

    code_verified: bool = False
    override_reason: str = ""


NOT_VERIFIED = Verification()


def redemption_authorise(
    *,
    client: Client,
    verification: Verification | None,
    acting_user: User | None,
    what: str,
    reference: str,
    required: bool | None = None,
) -> None:
    """Keep the salon's redemption-safety rule: with ``require_redemption_code`` on, a deduction needs
    the client's one-time code or a manager's override (``adjust_balances``), which is audited.

    Calls by the system itself (``acting_user`` None: a bill settled by a task) are not asked for a code.
    ``required``: the salon's setting when the caller has already read it (None: read it here)."""
    if acting_user is None:
        return
    if required is None:
        required = loyalty_settings().require_redemption_code
    if not required:
        return
    verification = verification or NOT_VERIFIED
    if verification.code_verified:
        return
    reason = (verification.override_reason or "").strip()
    if not reason:
        raise loyalty_error(LoyaltyError.CODE_REQUIRED)
    if not acting_user.has_perm(perm("adjust_balances")):
        raise loyalty_error(LoyaltyError.PERMISSION_DENIED)
    if len(reason) > 200:
        raise loyalty_error(LoyaltyError.TEXT_TOO_LONG, field="override_reason")
    audit_record(
        action="loyalty.redemption_code_overridden",
        actor=acting_user,
        target=client,
        data={"what": what, "reference": reference, "reason": reason},
    )


REDEMPTION_PURPOSE = "redemption"


def redemption_code_send(*, client: Client) -> Any:
    """Text the client a one-time code that authorises one deduction (LOY-8)."""
    from django.utils.translation import gettext as _

    from apps.core.db import salon_name
    from apps.messaging.codes import one_time_code_send

    if not client.phone:
        raise loyalty_error(LoyaltyError.NO_PHONE)
    salon = salon_name()
    message = _("Your code to pay with your member account at %(salon)s is {code}. Do not share it.") % {"salon": salon}
    return one_time_code_send(phone=client.phone, purpose=REDEMPTION_PURPOSE, message=message)


def redemption_code_check(*, client: Client, code: str) -> Verification:
    """The client's code, checked (and used up) before the deduction's own transaction; a wrong or
    expired code is refused with CODE_INVALID, an empty one with CODE_REQUIRED."""
    from apps.messaging.codes import one_time_code_verify

    if not (code or "").strip():
        raise loyalty_error(LoyaltyError.CODE_REQUIRED)
    if not one_time_code_verify(phone=client.phone, purpose=REDEMPTION_PURPOSE, code=code):
        raise loyalty_error(LoyaltyError.CODE_INVALID)
    return Verification(code_verified=True)
