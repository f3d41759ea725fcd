"""Test settings: the real settings with a cheap password hasher and eager Celery."""

import os

os.environ.setdefault("SALON_TESTING", "1")

from salon_platform.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "apps.messaging.sms.LocmemSmsBackend"
WECHAT_BACKEND = "locmem"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"signup": "1000/minute", "auth": "1000/minute"}}  # noqa: F405
SALON_POOL_SIZE = 0  # tests create what they need; the pool is exercised explicitly
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405
MEDIA_ROOT = BASE_DIR / ".data" / "test-media"  # noqa: F405
# Payment gateways: nothing listens here, so a test that forgot its fake server fails at once instead of
# reaching the internet; the fakes (apps.payments.testing) override these per test.
WECHATPAY_API_BASE = "http://127.0.0.1:9/"
ALIPAY_GATEWAY_URL = "http://127.0.0.1:9/gateway.do"
PAYMENTS_POLL_INTERVAL_SECONDS = 0.01
PAYMENTS_POLL_COUNT = 3
