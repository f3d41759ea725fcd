"""Test settings: the real settings with a cheap password hasher and eager Celery."""

import os

os.environ.setdefault("SALON_TESTING", "1")

from salon_platform.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SALON_POOL_SIZE = 0  # tests create what they need; the pool is exercised explicitly
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
MEDIA_ROOT = BASE_DIR / ".data" / "test-media"  # noqa: F405
