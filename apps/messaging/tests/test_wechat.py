"""WeChat template messages through wechatpy against a local fake of the official account API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django_tenants.utils import schema_context

from apps.messaging.tests.fakes import FakeWeChatApi, serving

OPENID = "oAbCdEfGh-client-1"


@pytest.fixture
def wechat_api(settings) -> Iterator[FakeWeChatApi]:
    from apps.messaging.wechat import wechat_tokens_forget

    api = FakeWeChatApi(appid="wx-app-1", secret="wx-secret-1", templates={"TPL-REMIND-01"})
    with serving(api) as base:
        settings.WECHAT_BACKEND = "wechatpy"
        settings.WECHAT_APP_ID = "wx-app-1"
        settings.WECHAT_APP_SECRET = "wx-secret-1"
        settings.WECHAT_API_BASE_URL = f"{base}/cgi-bin/"
        settings.WECHAT_TEMPLATES = {"appointment_reminder": "TPL-REMIND-01"}
        wechat_tokens_forget()
        yield api
    wechat_tokens_forget()


def _send(capture, *, openid: str = OPENID, template: str = "appointment_reminder"):
    from apps.messaging.services import message_send

    with capture(execute=True):
        delivery = message_send(
            channel="wechat",
            recipient=openid,
            body="Reminder: 剪发 tomorrow 10:00",
            purpose="appointment_reminder",
            template=template,
            data={"first": "Reminder", "keyword1": "剪发", "keyword2": "2026-12-01 10:00"},
        )
    delivery.refresh_from_db()
    return delivery


def test_a_template_message_is_sent_with_a_fetched_token_and_logged_as_sent(
    alpha, beta, wechat_api, django_capture_on_commit_callbacks
):
    from apps.messaging.models import Delivery

    # given the official account API and alpha's client who follows it
    # when alpha sends a reminder by WeChat
    with schema_context(alpha.schema):
        delivery = _send(django_capture_on_commit_callbacks)
    # then the SDK fetched a token with the app's credentials and posted the template with it
    assert wechat_api.token_fetches == 1
    assert wechat_api.sends == [
        {
            "access_token": "TOKEN-1",
            "message": {
                "touser": OPENID,
                "template_id": "TPL-REMIND-01",
                "data": {
                    "first": {"value": "Reminder"},
                    "keyword1": {"value": "剪发"},
                    "keyword2": {"value": "2026-12-01 10:00"},
                },
            },
        }
    ]
    assert (delivery.channel, delivery.status, delivery.attempts, delivery.error) == ("wechat", "sent", 1, "")
    assert delivery.template == "appointment_reminder"
    # and the delivery is in alpha's log only
    with schema_context(beta.schema):
        assert Delivery.objects.count() == 0


def test_the_access_token_is_kept_for_the_next_message(in_alpha, wechat_api, django_capture_on_commit_callbacks):
    # given one message sent
    _send(django_capture_on_commit_callbacks)
    # when a second one goes out
    second = _send(django_capture_on_commit_callbacks)
    # then the token was fetched once and used twice
    assert second.status == "sent"
    assert wechat_api.token_fetches == 1
    assert [s["access_token"] for s in wechat_api.sends] == ["TOKEN-1", "TOKEN-1"]


def test_an_expired_token_is_refreshed_and_the_message_sent_again_once(
    in_alpha, wechat_api, django_capture_on_commit_callbacks
):
    # given a token the API has since expired
    _send(django_capture_on_commit_callbacks)
    wechat_api.expire_token()
    # when the next message goes out
    delivery = _send(django_capture_on_commit_callbacks)
    # then the API answered 40001, a new token was fetched and the message sent with it
    assert delivery.status == "sent"
    assert wechat_api.token_fetches == 2
    assert [s["access_token"] for s in wechat_api.sends] == ["TOKEN-1", "TOKEN-1", "TOKEN-2"]
    assert len(wechat_api.delivered) == 2


def test_a_token_refused_again_after_the_refresh_fails_the_delivery_without_more_tries(
    in_alpha, wechat_api, django_capture_on_commit_callbacks
):
    # given an API that refuses every token
    wechat_api.reject_every_token = True
    # when a message goes out
    delivery = _send(django_capture_on_commit_callbacks)
    # then it was tried once more after one refresh, and the log says why it failed
    assert len(wechat_api.sends) == 2
    assert wechat_api.token_fetches == 2
    assert delivery.status == "failed"
    assert delivery.error == "WeChatError: 40001: invalid credential, access_token is invalid or not latest"


def test_a_client_who_does_not_follow_the_account_gets_a_failed_delivery_with_the_reason(
    in_alpha, wechat_api, django_capture_on_commit_callbacks
):
    # given a client who unfollowed the official account
    wechat_api.unsubscribed.add(OPENID)
    # when a message goes out
    delivery = _send(django_capture_on_commit_callbacks)
    # then the API refused it once (no retry) and the log keeps the reason
    assert len(wechat_api.sends) == 1
    assert wechat_api.delivered == []
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.error == "WeChatError: 43004: require subscribe"


def test_a_purpose_without_a_template_id_fails_without_calling_the_api(
    in_alpha, wechat_api, django_capture_on_commit_callbacks
):
    # when a message names a template the salon has not set up
    delivery = _send(django_capture_on_commit_callbacks, template="birthday_greeting")
    # then nothing was sent and the log says what is missing
    assert wechat_api.sends == []
    assert delivery.status == "failed"
    assert delivery.error == "WeChatError: no WeChat template id is set for 'birthday_greeting' (WECHAT_TEMPLATES)"


def test_a_wrong_app_secret_fails_the_delivery(in_alpha, wechat_api, settings, django_capture_on_commit_callbacks):
    # given the wrong secret in the settings
    settings.WECHAT_APP_SECRET = "not-the-secret"
    # when a message goes out
    delivery = _send(django_capture_on_commit_callbacks)
    # then the token was refused and nothing was posted
    assert wechat_api.sends == []
    assert delivery.status == "failed"
    assert delivery.error == "WeChatError: 40125: invalid appsecret"


def test_an_unreachable_api_fails_the_delivery(in_alpha, settings, django_capture_on_commit_callbacks):
    from apps.messaging.wechat import wechat_tokens_forget

    # given an API address where nothing listens
    with serving(FakeWeChatApi(appid="x", secret="y", templates=set())) as base:
        pass  # the port is free again once the server has stopped
    settings.WECHAT_BACKEND = "wechatpy"
    settings.WECHAT_APP_ID = "wx-app-1"
    settings.WECHAT_APP_SECRET = "wx-secret-1"
    settings.WECHAT_API_BASE_URL = f"{base}/cgi-bin/"
    settings.WECHAT_TEMPLATES = {"appointment_reminder": "TPL-REMIND-01"}
    wechat_tokens_forget()
    # when a message goes out
    delivery = _send(django_capture_on_commit_callbacks)
    # then it failed with the network error
    assert delivery.status == "failed"
    assert delivery.error.startswith("WeChatError: ConnectionError: ")


def test_the_locmem_backend_keeps_messages_for_tests(in_alpha, django_capture_on_commit_callbacks):
    from apps.messaging import wechat

    # given the test settings' backend
    wechat.outbox.clear()
    # when a message goes out
    delivery = _send(django_capture_on_commit_callbacks)
    # then it is in the outbox, and logged as sent
    assert wechat.outbox == [
        wechat.TemplateMessage(
            openid=OPENID,
            template="appointment_reminder",
            data={"first": "Reminder", "keyword1": "剪发", "keyword2": "2026-12-01 10:00"},
        )
    ]
    assert delivery.status == "sent"


def test_a_wechat_message_needs_a_template(in_alpha):
    from apps.messaging.models import Delivery
    from apps.messaging.services import message_send

    # when a WeChat message names no template
    with pytest.raises(ValueError, match="a WeChat message needs a template"):
        message_send(channel="wechat", recipient=OPENID, body="x", purpose="p")
    # then nothing was logged
    assert Delivery.objects.count() == 0
