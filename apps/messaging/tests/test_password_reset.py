"""Password reset (core) goes out through the messaging app's delivery log."""

from __future__ import annotations

from django_tenants.utils import schema_context


def test_password_reset_sends_a_link_through_the_delivery_log(alpha, mailoutbox, django_capture_on_commit_callbacks):
    from django.test import Client

    from apps.messaging.models import Delivery

    with django_capture_on_commit_callbacks(execute=True):
        response = Client(HTTP_HOST=alpha.host).post("/password-reset/", {"email": alpha.owner_username})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "http://alpha.localhost/password-reset/" in mailoutbox[0].body
    with schema_context(alpha.schema):
        delivery = Delivery.objects.get()
        assert (delivery.purpose, delivery.status, delivery.recipient) == (
            "password_reset",
            "sent",
            alpha.owner_username,
        )
    unknown = Client(HTTP_HOST=alpha.host).post("/password-reset/", {"email": "nobody@nowhere.test"})
    assert unknown.status_code == 302
    assert len(mailoutbox) == 1


def test_a_one_time_code_is_not_kept_in_the_delivery_log_once_sent(in_alpha, django_capture_on_commit_callbacks):
    from apps.messaging import sms
    from apps.messaging.codes import one_time_code_send, one_time_code_verify
    from apps.messaging.models import Delivery

    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        otp = one_time_code_send(phone="+8613800138000", purpose="member_login", message="Your code is {code}.")
    code = sms.outbox[0].body.removeprefix("Your code is ").rstrip(".")
    assert Delivery.objects.get(pk=otp.delivery_id).body == "Your code is ******."
    assert one_time_code_verify(phone="+8613800138000", purpose="member_login", code=code)
    assert not one_time_code_verify(phone="+8613800138000", purpose="member_login", code=code)
