"""Online booking by the client (SCH-5): the first booking of a phone that is no client's yet creates the
client, in the same transaction as the booking."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import transaction

from apps.core.errors import ServiceError
from apps.core.models import Location
from apps.crm.errors import CrmError
from apps.crm.models import Client, Source
from apps.crm.services.clients import client_create
from apps.loyalty.selectors_member import member_by_phone
from apps.scheduling.models import Appointment, AppointmentChannel
from apps.scheduling.services.booking import LineRequest, appointment_book


def _client_for_phone(*, phone: str, name: str) -> Client:
    """The active client with ``phone``, or a new one named ``name`` with source "online booking".

    The phone was proven by a one-time code, so it may be used to find the client: a client created by the
    salon since the code was checked, or by a booking of the same phone a moment ago, is the one who
    books. The partial unique index on active phones settles two first bookings at once: the loser finds
    the winner's client."""
    client = member_by_phone(phone)
    if client is not None:
        return client
    try:
        return client_create(name=name, acting_user=None, phone=phone, source=Source.ONLINE_BOOKING)
    except ServiceError as error:
        if error.code != CrmError.DUPLICATE_PHONE:
            raise
        duplicate = error
    client = member_by_phone(phone)
    if client is None:  # the other client was deactivated in between
        raise duplicate
    return client


def appointment_book_online(
    *,
    client: Client | None,
    phone: str | None = None,
    name: str = "",
    location: Location,
    start: datetime.datetime,
    lines: Sequence[LineRequest],
    notes: str = "",
    idempotency_key: str | None = None,
    deposit_method: str | None = None,
    now: datetime.datetime | None = None,
) -> tuple[Appointment, Client]:
    """Book a visit through the online channel for ``client``, or — for a phone proven by its code that is
    no client's yet — for the client it creates with ``name``. Every booking rule is
    ``appointment_book(channel="online")``'s; when it refuses, no client is created either."""
    if client is None and not phone:
        raise ValueError("a client or a proven phone is needed")
    with transaction.atomic():
        booker = client if client is not None else _client_for_phone(phone=phone or "", name=name)
        appointment = appointment_book(
            client=booker,
            location=location,
            start=start,
            lines=lines,
            channel=AppointmentChannel.ONLINE,
            acting_user=None,
            notes=notes,
            idempotency_key=idempotency_key,
            deposit_method=deposit_method,
            now=now,
        )
    return appointment, booker
