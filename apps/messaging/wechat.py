"""WeChat official-account template messages. The one module that talks to wechatpy: every SDK or
network error leaves it as ``WeChatError``.

``WECHAT_BACKEND`` picks the backend: ``console`` prints (development), ``locmem`` keeps the messages
in ``outbox`` (tests), ``wechatpy`` sends through the official account's API at ``WECHAT_API_BASE_URL``.
Callers name a template by its purpose (``appointment_reminder``); ``WECHAT_TEMPLATES`` maps that to the
template id chosen in the official account's back office."""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class WeChatError(Exception):
    """The WeChat API refused the message or could not be reached; the delivery log records the text.
    ``errcode`` is WeChat's code (None when the API was not reached or answered no JSON)."""

    def __init__(self, message: str, *, errcode: int | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode


@dataclass(frozen=True)
class TemplateMessage:
    openid: str
    template: str
    data: dict[str, str] = field(default_factory=dict)
    url: str = ""


class WeChatBackend(Protocol):
    def send_template(self, *, openid: str, template: str, data: Mapping[str, str], url: str = "") -> None: ...


class ConsoleWeChatBackend:
    def send_template(self, *, openid: str, template: str, data: Mapping[str, str], url: str = "") -> None:
        fields = "; ".join(f"{key}={value}" for key, value in data.items())
        sys.stdout.write(f"WeChat template {template} to {openid}: {fields}\n")
        sys.stdout.flush()


# Messages the locmem backend "sent", like django.core.mail.outbox.
outbox: list[TemplateMessage] = []


class LocmemWeChatBackend:
    def send_template(self, *, openid: str, template: str, data: Mapping[str, str], url: str = "") -> None:
        outbox.append(TemplateMessage(openid=openid, template=template, data=dict(data), url=url))


# WeChat's codes for an access token that is wrong or expired: fetch a new one and try once more.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})

# Access tokens, per app id, shared by the clients of this process. WeChat allows 2,000 token fetches
# a day per account, so a token must outlive the client made for one message.
_token_lock = threading.Lock()
_tokens: Any = None


def _token_store() -> Any:
    from wechatpy.session.memorystorage import MemoryStorage

    global _tokens
    with _token_lock:
        if _tokens is None:
            _tokens = MemoryStorage()
        return _tokens


def wechat_tokens_forget() -> None:
    """Drop the cached access tokens (tests; after the app secret changes)."""
    global _tokens
    with _token_lock:
        _tokens = None


@contextmanager
def _wechat_errors() -> Iterator[None]:
    import requests
    from wechatpy.exceptions import WeChatException

    try:
        yield
    except WeChatException as exc:
        raise WeChatError(f"{exc.errcode}: {exc.errmsg}", errcode=exc.errcode)
    except requests.RequestException as exc:
        raise WeChatError(f"{exc.__class__.__name__}: {exc}")


def _client(*, appid: str, secret: str, base_url: str, timeout: float) -> Any:
    import requests
    from wechatpy import WeChatClient

    class _Session(requests.Session):
        # wechatpy fetches tokens without a timeout: a hung API must not hold a worker forever.
        def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = timeout
            return super().request(method, url, *args, **kwargs)

    class _Client(WeChatClient):  # type: ignore[misc]
        def fetch_access_token(self) -> Any:
            # The SDK fetches from the real API's address whatever the base URL: ask ours.
            return self._fetch_access_token(
                url=f"{self.API_BASE_URL}token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    # auto_retry off: the SDK retries a token error without end; we refresh and retry exactly once.
    client = _Client(appid, secret, session=_token_store(), timeout=timeout, auto_retry=False)
    client.API_BASE_URL = base_url
    client._http = _Session()
    return client


class WeChatPyBackend:
    """Template messages through wechatpy's ``WeChatClient.message.send_template``."""

    def __init__(self) -> None:
        if not (settings.WECHAT_APP_ID and settings.WECHAT_APP_SECRET):
            raise WeChatError("WECHAT_APP_ID and WECHAT_APP_SECRET are not set")
        self.client = _client(
            appid=settings.WECHAT_APP_ID,
            secret=settings.WECHAT_APP_SECRET,
            base_url=settings.WECHAT_API_BASE_URL,
            timeout=settings.WECHAT_TIMEOUT_SECONDS,
        )

    def send_template(self, *, openid: str, template: str, data: Mapping[str, str], url: str = "") -> None:
        template_id = settings.WECHAT_TEMPLATES.get(template, "")
        if not template_id:
            raise WeChatError(f"no WeChat template id is set for {template!r} (WECHAT_TEMPLATES)")
        fields = {key: {"value": value} for key, value in data.items()}
        with _wechat_errors(), warnings.catch_warnings():
            # send_template calls the SDK's own deprecated _post; nothing of ours to change.
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                self.client.message.send_template(openid, template_id, fields, url=url or None)
            except Exception as exc:
                if getattr(exc, "errcode", None) not in TOKEN_ERRCODES:
                    raise
                self.client.fetch_access_token()
                self.client.message.send_template(openid, template_id, fields, url=url or None)


BACKENDS: dict[str, type[Any]] = {
    "console": ConsoleWeChatBackend,
    "locmem": LocmemWeChatBackend,
    "wechatpy": WeChatPyBackend,
}


def wechat_backend() -> WeChatBackend:
    """The backend ``WECHAT_BACKEND`` names (console, locmem, wechatpy, or a dotted path)."""
    name = settings.WECHAT_BACKEND
    backend_class = BACKENDS.get(name) or import_string(name)
    backend: WeChatBackend = backend_class()
    return backend
