"""Alibaba Cloud SMS adapter: real request signing, checked by a local fake of dysmsapi that recomputes the
signature with the test's key."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django_tenants.utils import schema_context

from apps.messaging.tests.fakes import FakeAliyunSms, serving

KEY_ID = "LTAI-test-key"
SECRET = "test-secret-Xy9"


@pytest.fixture
def aliyun(settings) -> Iterator[FakeAliyunSms]:
    api = FakeAliyunSms(key_id=KEY_ID, secret=SECRET, sign_name="美发沙龙", template_code="SMS_900001")
    with serving(api) as base:
        settings.SMS_BACKEND = "apps.messaging.sms_aliyun.AliyunSmsBackend"
        settings.ALIYUN_SMS_ACCESS_KEY_ID = KEY_ID
        settings.ALIYUN_SMS_ACCESS_KEY_SECRET = SECRET
        settings.ALIYUN_SMS_SIGN_NAME = "美发沙龙"
        settings.ALIYUN_SMS_TEMPLATE_CODE = "SMS_900001"
        settings.ALIYUN_SMS_ENDPOINT = f"{base}/"
        yield api


def _send(capture, *, to: str = "+8613800138000", body: str = "明天 10:00 剪发，期待您的光临 & 谢谢!"):
    from apps.messaging.services import message_send

    with capture(execute=True):
        delivery = message_send(channel="sms", recipient=to, body=body, purpose="appointment_reminder")
    delivery.refresh_from_db()
    return delivery


def test_the_signature_matches_the_providers_documented_example():
    from apps.messaging.sms_aliyun import rpc_signature

    # given the request of Alibaba Cloud's signature example (SMS API documentation)
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    # when signed with the example's secret
    # then the signature is the documented one
    assert rpc_signature(params, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_a_text_goes_out_signed_through_the_template_and_is_logged_sent(
    alpha, beta, aliyun, django_capture_on_commit_callbacks
):
    from apps.messaging.models import Delivery

    # when alpha sends a text message through the provider
    with schema_context(alpha.schema):
        delivery = _send(django_capture_on_commit_callbacks)
    # then the provider accepted the signed request: the number without +86, the text as the variable
    assert len(aliyun.sent) == 1
    sent = aliyun.sent[0]
    assert (sent["PhoneNumbers"], sent["SignName"], sent["TemplateCode"], sent["RegionId"]) == (
        "13800138000",
        "美发沙龙",
        "SMS_900001",
        "cn-hangzhou",
    )
    assert json.loads(sent["TemplateParam"]) == {"content": "明天 10:00 剪发，期待您的光临 & 谢谢!"}
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 1, "")
    with schema_context(beta.schema):
        assert Delivery.objects.count() == 0


def test_each_request_has_a_new_nonce(in_alpha, aliyun, django_capture_on_commit_callbacks):
    # when two messages go out
    first = _send(django_capture_on_commit_callbacks)
    second = _send(django_capture_on_commit_callbacks)
    # then both were accepted (the provider refuses a nonce seen before)
    assert (first.status, second.status) == ("sent", "sent")
    assert len(aliyun.nonces) == 2


def test_a_wrong_secret_is_refused_by_the_signature_check(
    in_alpha, aliyun, settings, django_capture_on_commit_callbacks
):
    # given a secret that is not the key's
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "wrong-secret"
    # when a message goes out
    delivery = _send(django_capture_on_commit_callbacks)
    # then the provider refused it and the log says why
    assert aliyun.sent == []
    assert delivery.status == "failed"
    assert delivery.error == "SmsError: SignatureDoesNotMatch: Specified signature is not matched with our calculation."


def test_a_provider_refusal_fails_the_delivery_with_its_code(in_alpha, aliyun, django_capture_on_commit_callbacks):
    # given a number the provider throttles today
    aliyun.refuse_numbers.add("13800138000")
    # when a message goes out
    delivery = _send(django_capture_on_commit_callbacks)
    # then it failed with the provider's code and message
    assert aliyun.sent == []
    assert delivery.status == "failed"
    assert delivery.error == "SmsError: isv.BUSINESS_LIMIT_CONTROL: 触发号码天级流控Permits:10"


def test_an_international_number_keeps_its_country_code(in_alpha, aliyun, django_capture_on_commit_callbacks):
    # when a message goes to a Hong Kong number
    delivery = _send(django_capture_on_commit_callbacks, to="+85251234567")
    # then it went out with the country code and without the plus
    assert delivery.status == "sent"
    assert aliyun.sent[0]["PhoneNumbers"] == "85251234567"


def test_an_unconfigured_provider_fails_the_delivery(in_alpha, settings, django_capture_on_commit_callbacks):
    # given the adapter chosen without its keys
    settings.SMS_BACKEND = "apps.messaging.sms_aliyun.AliyunSmsBackend"
    settings.ALIYUN_SMS_ACCESS_KEY_ID = ""
    # when a message goes out
    delivery = _send(django_capture_on_commit_callbacks)
    # then it failed and says what is missing
    assert delivery.status == "failed"
    assert delivery.error == "SmsError: Alibaba Cloud SMS is not configured (ALIYUN_SMS_* settings)"


def test_an_unreachable_provider_fails_the_delivery(in_alpha, aliyun, settings, django_capture_on_commit_callbacks):
    # given an endpoint where nothing listens
    with serving(FakeAliyunSms(key_id="x", secret="y", sign_name="z", template_code="t")) as base:
        pass
    settings.ALIYUN_SMS_ENDPOINT = f"{base}/"
    # when a message goes out
    delivery = _send(django_capture_on_commit_callbacks)
    # then it failed with the network error
    assert delivery.status == "failed"
    assert delivery.error.startswith("SmsError: URLError: ")
