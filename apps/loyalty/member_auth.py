"""The member centre's own sign-in, kept apart from staff authentication (LOY-9).

A member session is a few keys of the ordinary session: the client and the salon schema it was
opened in. No staff user is ever logged in by it, and a staff login gives no member access: the
member pages look only at these keys, the staff pages only at ``request.user``."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from apps.core.db import current_schema, salon_today
from apps.crm.models import Client
from apps.loyalty.selectors_member import member_client
from apps.loyalty.services.member_login import member_login_code_send

CLIENT_KEY = "loyalty_member_client"
SCHEMA_KEY = "loyalty_member_schema"
SEEN_KEY = "loyalty_member_seen"
# Before sign-in: the phone a code was asked for, and when (the code page and its resend button).
PENDING_PHONE_KEY = "loyalty_member_phone"
SENT_AT_KEY = "loyalty_member_code_sent_at"
# A phone proven by its code that belongs to no client yet (online booking creates the client), and the
# salon schema it was proven in.
PROVEN_PHONE_KEY = "loyalty_member_proven_phone"
_MEMBER_KEYS = (CLIENT_KEY, SCHEMA_KEY, SEEN_KEY, PENDING_PHONE_KEY, SENT_AT_KEY, PROVEN_PHONE_KEY)

# A member stays signed in until 30 days without a visit.
SESSION_AGE_SECONDS = 30 * 24 * 3600


def _keep_alive(request: HttpRequest) -> None:
    """Slide the expiry to 30 days from now, at most once a day (each slide writes the session).

    A session that also holds a staff login keeps the staff app's own lifetime."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        request.session.set_expiry(SESSION_AGE_SECONDS)
    request.session[SEEN_KEY] = salon_today().isoformat()


def member_session_start(request: HttpRequest, client: Client) -> None:
    """Sign ``client`` in: a new session key (no fixation), then the member keys. A staff member signed in
    in the same browser is signed out first: one browser, one person, and the staff session must not take
    on the member session's 30-day life."""
    if request.session.get(auth.SESSION_KEY):
        auth.logout(request)
    request.session.cycle_key()
    for key in (PENDING_PHONE_KEY, SENT_AT_KEY, PROVEN_PHONE_KEY):
        request.session.pop(key, None)
    request.session[CLIENT_KEY] = client.pk
    request.session[SCHEMA_KEY] = current_schema()
    _keep_alive(request)


def member_phone_session_start(request: HttpRequest, phone: str) -> None:
    """Remember ``phone``, just proven by its code but no client's yet, for the booking that will create
    the client (then ``member_session_start`` takes over). Like a member sign-in: a new session key, and a
    staff member signed in in the same browser is signed out."""
    if request.session.get(auth.SESSION_KEY):
        auth.logout(request)
    request.session.cycle_key()
    for key in _MEMBER_KEYS:
        request.session.pop(key, None)
    request.session[PROVEN_PHONE_KEY] = phone
    request.session[SCHEMA_KEY] = current_schema()
    _keep_alive(request)


def current_proven_phone(request: HttpRequest) -> str | None:
    """The phone proven in this salon by a visitor who is not a client yet, or None."""
    phone = request.session.get(PROVEN_PHONE_KEY)
    if not isinstance(phone, str) or request.session.get(SCHEMA_KEY) != current_schema():
        return None
    return phone


def member_session_drop_on_staff_login(sender: Any, request: HttpRequest | None = None, **_kwargs: Any) -> None:
    """A staff sign-in ends any member session in that browser (``user_logged_in`` receiver), and the
    session goes back to the staff expiry."""
    if request is None or not hasattr(request, "session"):
        return
    if request.session.get(CLIENT_KEY) is not None or request.session.get(PROVEN_PHONE_KEY) is not None:
        for key in _MEMBER_KEYS:
            request.session.pop(key, None)
        request.session.set_expiry(None)


def member_session_end(request: HttpRequest) -> None:
    """Sign the member out; a staff login in the same browser is left alone."""
    for key in _MEMBER_KEYS:
        request.session.pop(key, None)
    request.session.cycle_key()


def current_member(request: HttpRequest) -> Client | None:
    """The signed-in member of this salon, or None. A session opened in another salon, or whose client
    is no longer active, is signed out."""
    if hasattr(request, "member"):
        return request.member  # type: ignore[no-any-return]
    client = None
    client_id = request.session.get(CLIENT_KEY)
    if client_id is not None:
        if request.session.get(SCHEMA_KEY) == current_schema() and isinstance(client_id, int):
            client = member_client(client_id)
        if client is None:
            for key in (CLIENT_KEY, SCHEMA_KEY, SEEN_KEY):
                request.session.pop(key, None)
        elif request.session.get(SEEN_KEY) != salon_today().isoformat():
            _keep_alive(request)
    request.member = client  # type: ignore[attr-defined]
    return client


def safe_next(request: HttpRequest, target: str | None) -> str | None:
    """``target`` when it is a member-centre page on this host, else None."""
    if not target or not target.startswith(reverse("member:home")):
        return None
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return None
    return target


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Member pages: a signed-in member, else the member sign-in page (never the staff one). Never
    cached: the pages show balances."""

    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        client = current_member(request)
        if client is None:
            login = reverse("member:login")
            if request.method == "GET" and request.get_full_path() != reverse("member:home"):
                login = f"{login}?{urlencode({'next': request.get_full_path()})}"
            return redirect(login)
        return view(request, client, *args, **kwargs)

    return wrapper


# --- asking for a code (the member centre's and online booking's sign-in pages) -------------------


def code_wait_seconds(request: HttpRequest, phone: str) -> int:
    """Seconds before this browser may ask again for a code to ``phone``.

    Kept per session and for every number alike, so that the answer never tells a member's phone
    from any other; messaging's own resend interval still guards each member's phone."""
    if request.session.get(PENDING_PHONE_KEY) != phone:
        return 0
    sent_at = request.session.get(SENT_AT_KEY)
    if not isinstance(sent_at, int | float):
        return 0
    left = sent_at + settings.ONE_TIME_CODE_RESEND_SECONDS - time.time()
    return int(left) + 1 if left > 0 else 0


def code_too_soon_message(seconds: int) -> str:
    return _("A code was just sent. Wait %(seconds)s seconds before asking for another.") % {"seconds": seconds}


def code_request(request: HttpRequest, phone: str, *, new_clients_too: bool = False) -> None:
    """Send a sign-in code to ``phone`` (``member_login_code_send``) and remember the phone and when, for the
    code page and its resend button."""
    member_login_code_send(phone=phone, new_clients_too=new_clients_too)
    request.session[PENDING_PHONE_KEY] = phone
    request.session[SENT_AT_KEY] = time.time()
