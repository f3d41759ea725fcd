"""One-time codes sent by text message (LOY-8 redemption safety, LOY-9 member login).

A code is six digits, lives ``ONE_TIME_CODE_TTL_SECONDS``, is used at most once, and dies after
``OneTimeCode.MAX_ATTEMPTS`` wrong guesses; a new one for the same phone and purpose may be sent only
after ``ONE_TIME_CODE_RESEND_SECONDS``. Sending a new code retires the older ones."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from enum import Enum

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.crypto import search_hash
from apps.core.errors import ServiceError
from apps.messaging.models import OneTimeCode
from apps.messaging.services import message_send_sms


class CodeError(Enum):
    TOO_SOON = "code_too_soon"
    NO_PHONE = "no_phone"


def _code_hash(code: str, recipient_hash: str) -> str:
    return hmac.new(settings.SEARCH_HASH_KEY.encode(), f"{recipient_hash}:{code}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def one_time_code_send(*, phone: str, purpose: str, message: str, now: datetime.datetime | None = None) -> OneTimeCode:
    """Send a new code to ``phone`` (E.164). ``message`` is the text with ``{code}`` where the code goes.

    Refused (429) while the previous code for the same phone and purpose is younger than the resend
    interval, so nobody can flood a client's phone."""
    if not phone:
        raise ServiceError(CodeError.NO_PHONE, gettext_lazy("There is no phone number to send a code to."))
    now = now or timezone.now()
    recipient = search_hash(phone)
    # Lock the phone's latest code so two requests at once cannot both pass the resend check.
    latest = (
        OneTimeCode.objects.select_for_update()
        .filter(recipient_hash=recipient, purpose=purpose)
        .order_by("-id")
        .first()
    )
    wait = datetime.timedelta(seconds=settings.ONE_TIME_CODE_RESEND_SECONDS)
    if latest is not None and latest.created_at > now - wait:
        seconds = int((latest.created_at + wait - now).total_seconds()) + 1
        raise ServiceError(
            CodeError.TOO_SOON,
            _("A code was just sent. Wait %(seconds)s seconds before asking for another.") % {"seconds": seconds},
            status=429,
        )
    OneTimeCode.objects.filter(recipient_hash=recipient, purpose=purpose, used_at__isnull=True).update(used_at=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    otp = OneTimeCode.objects.create(
        recipient_hash=recipient,
        purpose=purpose,
        code_hash=_code_hash(code, recipient),
        expires_at=now + datetime.timedelta(seconds=settings.ONE_TIME_CODE_TTL_SECONDS),
        created_at=now,
    )
    otp.delivery = message_send_sms(to=phone, body=message.format(code=code), purpose=f"code:{purpose}")
    otp.save(update_fields=["delivery"])
    return otp


def one_time_code_verify(*, phone: str, purpose: str, code: str, now: datetime.datetime | None = None) -> bool:
    """True, and the code is used up, when ``code`` is the live code for this phone and purpose.

    Call it before (outside) the transaction of the action it unlocks, so that a wrong guess stays
    counted when that action is refused and rolls back."""
    now = now or timezone.now()
    code = (code or "").strip()
    if not phone or not code.isdigit() or len(code) != 6:
        return False
    recipient = search_hash(phone)
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(recipient_hash=recipient, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .order_by("-id")
            .first()
        )
        if otp is None or otp.attempts >= OneTimeCode.MAX_ATTEMPTS:
            return False
        if hmac.compare_digest(otp.code_hash, _code_hash(code, recipient)):
            otp.used_at = now
            otp.save(update_fields=["used_at"])
            return True
        OneTimeCode.objects.filter(pk=otp.pk).update(attempts=F("attempts") + 1)
        return False
