"""Signing in to the member centre (LOY-9) and to online booking (SCH-5) with the phone and a one-time
code sent to it.

Whether a phone belongs to a client is never revealed: asking for a code answers the same for every
number. The member centre texts only clients' phones; online booking texts every phone, because a new
client proves the phone before the first booking creates the client. The codes, their lifetime, the resend interval and
the limit of wrong guesses are messaging's (apps.messaging.codes)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from apps.core.errors import ServiceError
from apps.crm.models import Client
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.selectors_member import member_by_phone
from apps.messaging.codes import CodeError, one_time_code_send, one_time_code_verify

MEMBER_LOGIN_PURPOSE = "member_login"


def _message() -> str:
    salon = str(getattr(getattr(connection, "tenant", None), "name", "") or "")
    # The text is formatted again with the code: braces in the salon's name must stay literal.
    salon = salon.replace("{", "{{").replace("}", "}}")
    minutes = max(settings.ONE_TIME_CODE_TTL_SECONDS // 60, 1)
    return _(
        "%(salon)s member centre: your sign-in code is {code}, valid for %(minutes)s minutes. Do not share it."
    ) % {"salon": salon, "minutes": minutes}


def member_login_code_send(*, phone: str, new_clients_too: bool = False) -> None:
    """Text a sign-in code to ``phone`` (E.164, already normalised) when it is an active client's, or to
    any phone with ``new_clients_too`` (online booking, where a stranger may become a client).

    Returns nothing either way, so a caller cannot tell members from strangers. A request within the
    resend interval of the previous code sends nothing: that code is still live, and refusing only for
    members' phones would tell them apart."""
    if not new_clients_too and member_by_phone(phone) is None:
        return
    try:
        one_time_code_send(phone=phone, purpose=MEMBER_LOGIN_PURPOSE, message=_message())
    except ServiceError as error:
        if error.code != CodeError.TOO_SOON:
            raise


def member_phone_verify(*, phone: str, code: str) -> Client | None:
    """Prove ``phone`` with ``code``, the live code sent to it: the active client whose phone it is, or
    None when the phone is proven but belongs to no client (a new client booking online). A wrong, used or
    expired code is refused with CODE_INVALID; after five wrong guesses the code is dead (messaging counts
    them).

    Writes nothing of its own, and is not atomic on purpose: the code check commits by itself, so a
    wrong guess stays counted."""
    if not (code or "").strip():
        raise loyalty_error(LoyaltyError.CODE_REQUIRED, message=_("Enter the code sent to your phone."))
    if not one_time_code_verify(phone=phone, purpose=MEMBER_LOGIN_PURPOSE, code=code):
        raise loyalty_error(LoyaltyError.CODE_INVALID, message=_("This code is wrong or has expired."))
    return member_by_phone(phone)


def member_login_verify(*, phone: str, code: str) -> Client:
    """The client signing in to the member centre, once ``code`` proves ``phone`` (``member_phone_verify``);
    a proven phone that is no client's is refused like a wrong code."""
    client = member_phone_verify(phone=phone, code=code)
    if client is None:  # the record was merged or erased since the code was sent
        raise loyalty_error(LoyaltyError.CODE_INVALID, message=_("This code is wrong or has expired."))
    return client
