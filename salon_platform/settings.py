"""Django settings for the salon platform.

Everything that differs between machines comes from the environment
(django-environ). With no ``DATABASE_URL`` the embedded PostgreSQL under
``.data/`` is started (see ``salon_platform.embedded_db``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("SALON_TESTING", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off (production).")
    SECRET_KEY = "dev-only-insecure-key-never-used-in-production"  # noqa: S105

# Personal data at rest (SEC-4): Fernet keys for phone and ID numbers, newest first (older keys
# still decrypt, so keys rotate without a rewrite), and a separate key for the keyed hashes that
# make encrypted values findable by exact match. Production refuses to start without them.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
SEARCH_HASH_KEY = env.str("SEARCH_HASH_KEY", default="")
if not (FIELD_ENCRYPTION_KEYS and SEARCH_HASH_KEY):
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS and SEARCH_HASH_KEY must be set in the environment when DEBUG is off."
        )
    import base64
    import hashlib

    _dev_key = hashlib.sha256(f"field-encryption:{SECRET_KEY}".encode()).digest()
    FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [base64.urlsafe_b64encode(_dev_key).decode()]
    SEARCH_HASH_KEY = SEARCH_HASH_KEY or hashlib.sha256(f"search-hash:{SECRET_KEY}".encode()).hexdigest()

# The root domain: the public site and console live on it, each salon on a subdomain.
PLATFORM_DOMAIN = env.str("PLATFORM_DOMAIN", default="localhost").lower()
PORT = env.int("PORT", default=8000)
ALLOWED_HOSTS = [PLATFORM_DOMAIN, f".{PLATFORM_DOMAIN}", *env.list("EXTRA_ALLOWED_HOSTS", default=[])]
if TESTING:
    ALLOWED_HOSTS.append("testserver")

# --- applications -----------------------------------------------------------

SHARED_APPS = [
    "tenants",  # before django_tenants: its migrate/migrate_schemas commands override the stock ones
    "django_tenants",
    "apps.core",  # operators live in the public schema's user table
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served from the package, never a CDN
    "django_htmx",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework.authtoken",
    "apps.core",
    "apps.messaging",
    "apps.crm",
    "apps.catalog",
    "apps.loyalty",
    "apps.scheduling",
    "apps.inventory",
    "apps.payments",
    "apps.edge",
    "apps.pos",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Salon"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# Every new salon schema is a copy of this one (warm pool or clone), never a fresh migrate.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# One `SET search_path` per request (when the tenant is chosen) instead of one before every statement. Safe
# because django-tenants forgets the path on rollback, savepoint rollback and close (a SET inside a
# transaction that is rolled back is undone), so the next statement sets it again; a booking took 21 SETs.
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "salon_platform.urls_public"
ROOT_URLCONF = "salon_platform.urls_tenant"
SALON_POOL_SIZE = env.int("SALON_POOL_SIZE", default=3)
SALON_TRIAL_DAYS = 14

AUTH_USER_MODEL = "core.User"
# Usernames are unique case-insensitively through a functional unique constraint (core.User.Meta).
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = ["apps.core.auth.StaffBackend"]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "core:login"

MIDDLEWARE = [
    "salon_platform.middleware.RequestIdMiddleware",
    "tenants.middleware.TenantRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.TenantSessionGuardMiddleware",
    "apps.core.middleware.LanguageAndTimezoneMiddleware",
    "tenants.middleware.SalonStatusMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.staff_app",
            ],
        },
    }
]

WSGI_APPLICATION = "salon_platform.wsgi.application"
ASGI_APPLICATION = "salon_platform.asgi.application"

# --- database ---------------------------------------------------------------

DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    from salon_platform import embedded_db

    DATABASE_URL = embedded_db.ensure_running()

DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
_query = parse_qs(urlsplit(DATABASE_URL).query)
if "host" in _query:  # unix socket given as ?host=/path (the embedded server)
    DATABASES["default"]["HOST"] = _query["host"][0]
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth and security ------------------------------------------------------

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "apps.core.validators.LettersAndDigitsPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS",
    default=[
        f"http://*.{PLATFORM_DOMAIN}:{PORT}",
        f"http://{PLATFORM_DOMAIN}:{PORT}",
        f"https://*.{PLATFORM_DOMAIN}",
        f"https://{PLATFORM_DOMAIN}",
    ],
)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if SECURE_PROXY_SSL_HEADER:  # served over HTTPS behind a proxy: insist on it
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True

# --- i18n / time ------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LANGUAGE_COOKIE_NAME = "salon_language"
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"  # stored in UTC; shown in each salon's own zone (middleware)
DEFAULT_SALON_TIMEZONE = "Asia/Shanghai"
USE_TZ = True

# --- static and media -------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media"))
# Largest product image or staff photo accepted, and the most pixels it may declare (checked with
# Pillow in apps.core.uploads).
UPLOAD_IMAGE_MAX_BYTES = env.int("UPLOAD_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
UPLOAD_IMAGE_MAX_PIXELS = env.int("UPLOAD_IMAGE_MAX_PIXELS", default=50_000_000)
# Client photos (CRM-9): the largest upload accepted, and the most pixels an image may declare
# (a tiny file can claim enormous dimensions and exhaust memory when decoded).
CLIENT_PHOTO_MAX_BYTES = env.int("CLIENT_PHOTO_MAX_BYTES", default=8 * 1024 * 1024)
CLIENT_PHOTO_MAX_PIXELS = env.int("CLIENT_PHOTO_MAX_PIXELS", default=50_000_000)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- e-mail -----------------------------------------------------------------

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Text messages (one-time codes, reminders): console in development, a provider adapter in production.
SMS_BACKEND = env.str("SMS_BACKEND", default="apps.messaging.sms.ConsoleSmsBackend")
# Alibaba Cloud SMS (SMS_BACKEND=apps.messaging.sms_aliyun.AliyunSmsBackend): the RAM user's key pair,
# the approved signature and a notification template with one variable that carries the text.
ALIYUN_SMS_ACCESS_KEY_ID = env.str("ALIYUN_SMS_ACCESS_KEY_ID", default="")
ALIYUN_SMS_ACCESS_KEY_SECRET = env.str("ALIYUN_SMS_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_SIGN_NAME = env.str("ALIYUN_SMS_SIGN_NAME", default="")
ALIYUN_SMS_TEMPLATE_CODE = env.str("ALIYUN_SMS_TEMPLATE_CODE", default="")
ALIYUN_SMS_TEMPLATE_PARAM = env.str("ALIYUN_SMS_TEMPLATE_PARAM", default="content")
ALIYUN_SMS_ENDPOINT = env.str("ALIYUN_SMS_ENDPOINT", default="https://dysmsapi.aliyuncs.com/")
ALIYUN_SMS_REGION = env.str("ALIYUN_SMS_REGION", default="cn-hangzhou")
ALIYUN_SMS_TIMEOUT_SECONDS = env.float("ALIYUN_SMS_TIMEOUT_SECONDS", default=10.0)
# WeChat official-account template messages: console (development), locmem (tests) or wechatpy (real).
WECHAT_BACKEND = env.str("WECHAT_BACKEND", default="console")
WECHAT_APP_ID = env.str("WECHAT_APP_ID", default="")
WECHAT_APP_SECRET = env.str("WECHAT_APP_SECRET", default="")
WECHAT_API_BASE_URL = env.str("WECHAT_API_BASE_URL", default="https://api.weixin.qq.com/cgi-bin/")
WECHAT_TIMEOUT_SECONDS = env.float("WECHAT_TIMEOUT_SECONDS", default=10.0)
# Template ids chosen in the official account's back office, one per purpose of message, e.g.
# WECHAT_TEMPLATES=appointment_reminder=AbC…,appointment_confirmation=DeF…
WECHAT_TEMPLATES = env.dict("WECHAT_TEMPLATES", default={})
# One-time codes (LOY-8, LOY-9): how long a code lives and how soon another may be sent to the same phone.
ONE_TIME_CODE_TTL_SECONDS = env.int("ONE_TIME_CODE_TTL_SECONDS", default=300)
ONE_TIME_CODE_RESEND_SECONDS = env.int("ONE_TIME_CODE_RESEND_SECONDS", default=60)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"no-reply@{PLATFORM_DOMAIN}")

# --- payment gateways (POS-2) -----------------------------------------------

# WeChat Pay (API v2) and Alipay (open platform) addresses; each salon enters its own merchant
# credentials in its settings. Tests point both at local fake servers.
WECHATPAY_API_BASE = env.str("WECHATPAY_API_BASE", default="https://api.mch.weixin.qq.com/")
WECHATPAY_TIMEOUT_SECONDS = env.float("WECHATPAY_TIMEOUT_SECONDS", default=10.0)
# The IPv4 address WeChat Pay is told the request comes from (spbill_create_ip): the server's own.
WECHATPAY_CLIENT_IP = env.str("WECHATPAY_CLIENT_IP", default="127.0.0.1")
# The CA certificates (a PEM file) WeChat Pay's server certificate is verified against. Empty: the default
# bundle of requests (certifi's Mozilla list, or the file REQUESTS_CA_BUNDLE names). Verification is never
# switched off: the merchant's API certificate is presented to that server for refunds and reversals.
WECHATPAY_CA_BUNDLE = env.str("WECHATPAY_CA_BUNDLE", default="")
if WECHATPAY_CA_BUNDLE and not Path(WECHATPAY_CA_BUNDLE).is_file():
    raise ImproperlyConfigured(f"WECHATPAY_CA_BUNDLE names no file: {WECHATPAY_CA_BUNDLE}")
ALIPAY_GATEWAY_URL = env.str("ALIPAY_GATEWAY_URL", default="https://openapi.alipay.com/gateway.do")
ALIPAY_TIMEOUT_SECONDS = env.float("ALIPAY_TIMEOUT_SECONDS", default=15.0)
# A client still confirming on their phone (USERPAYING / WAIT_BUYER_PAY), or an answer that was lost:
# ask the provider this many times at this interval before answering "pending" to the till.
PAYMENTS_POLL_INTERVAL_SECONDS = env.float("PAYMENTS_POLL_INTERVAL_SECONDS", default=3.0)
PAYMENTS_POLL_COUNT = env.int("PAYMENTS_POLL_COUNT", default=10)
# Reconciliation (beat, every minute): pending payments older than this are asked about again...
PAYMENTS_RECONCILE_AFTER_SECONDS = env.int("PAYMENTS_RECONCILE_AFTER_SECONDS", default=60)
# ...and those still unpaid this long after they were started are cancelled at the provider. QR codes
# expire at the provider after the same time (WeChat Pay accepts 5 minutes at the least).
PAYMENTS_EXPIRE_MINUTES = max(5, env.int("PAYMENTS_EXPIRE_MINUTES", default=15))

# --- REST API ---------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.core.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api_errors.exception_handler",
    # Views that name a throttle_scope (signup, token) are rate-limited per client IP.
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "signup": env.str("THROTTLE_SIGNUP", default="20/hour"),
        "auth": env.str("THROTTLE_AUTH", default="30/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Salon platform API",
    "DESCRIPTION": "REST API v1. Money fields are integers in fen (1/100 yuan).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several "status" fields with different choices: name their enums after what they are.
    "ENUM_NAME_OVERRIDES": {
        "ComplaintStatusEnum": "apps.crm.models.interactions.ComplaintStatus",
        "FollowUpStatusEnum": "apps.crm.models.interactions.FollowUpStatus",
        "GatewayPaymentStatusEnum": "apps.payments.models.PaymentStatus",
        "GatewayRefundStatusEnum": "apps.payments.models.RefundStatus",
        "GatewayPaymentKindEnum": "apps.payments.models.PaymentKind",
        "PaymentProviderEnum": "apps.payments.models.Provider",
    },
}

# --- clients -----------------------------------------------------------------

# Client import (CRM-7): uploads over these limits are refused. Files of up to
# CLIENT_IMPORT_INLINE_ROWS rows are checked and imported within the request; larger ones by
# a Celery task that writes its progress to the import every CLIENT_IMPORT_BATCH_SIZE rows.
CLIENT_IMPORT_MAX_BYTES = env.int("CLIENT_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
CLIENT_IMPORT_MAX_ROWS = env.int("CLIENT_IMPORT_MAX_ROWS", default=50_000)
CLIENT_IMPORT_INLINE_ROWS = env.int("CLIENT_IMPORT_INLINE_ROWS", default=500)
CLIENT_IMPORT_BATCH_SIZE = env.int("CLIENT_IMPORT_BATCH_SIZE", default=500)

# --- Celery -----------------------------------------------------------------


def _default_broker_url(database_url: str) -> str:
    """kombu's SQLAlchemy transport on the platform's own database: no extra server."""
    parts = urlsplit(database_url)
    user = quote(parts.username or "postgres")
    password = f":{quote(parts.password)}" if parts.password else ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"sqla+postgresql+psycopg://{user}{password}@{host}{port}{parts.path}{query}"


CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or _default_broker_url(DATABASE_URL)
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "refill-salon-pool": {"task": "tenants.pool_refill", "schedule": 60.0},
    # Salon-level tasks go through tenants.for_each_salon, which queues them in every salon's schema.
    "follow-up-reminders": {
        "task": "tenants.for_each_salon",
        "schedule": 300.0,
        "args": ["crm.follow_up_reminders"],
    },
    # Automatic client tags (CRM-3), nightly: 19:00 UTC is 03:00 in Asia/Shanghai.
    # Appointment reminders (SCH-8) at the salons' offsets before each visit.
    "appointment-reminders": {
        "task": "tenants.for_each_salon",
        "schedule": 300.0,
        "args": ["scheduling.reminders_send"],
    },
    "client-tags-recompute": {
        "task": "tenants.for_each_salon",
        "schedule": crontab(hour=19, minute=0),
        "args": ["crm.tags_recompute"],
    },
    # Membership tiers (LOY-1), nightly after the tags: 19:30 UTC is 03:30 in Asia/Shanghai.
    "loyalty-tiers-evaluate": {
        "task": "tenants.for_each_salon",
        "schedule": crontab(hour=19, minute=30),
        "args": ["loyalty.tiers_evaluate"],
    },
    # Birthday coupons (LOY-6), nightly after the tags: 19:10 UTC is 03:10 in Asia/Shanghai.
    "coupons-birthday-issue": {
        "task": "tenants.for_each_salon",
        "schedule": crontab(hour=19, minute=10),
        "args": ["loyalty.coupons_birthday_issue"],
    },
    # Points past their expiry date (LOY-2), nightly: 16:30 UTC is 00:30 in Asia/Shanghai.
    "points-expire": {
        "task": "tenants.for_each_salon",
        "schedule": crontab(hour=16, minute=30),
        "args": ["loyalty.points_expire"],
    },
    # Birthday points (LOY-2), early on the salon's day: 16:45 UTC is 00:45 in Asia/Shanghai.
    "birthday-points": {
        "task": "tenants.for_each_salon",
        "schedule": crontab(hour=16, minute=45),
        "args": ["loyalty.birthday_points"],
    },
    # Gateway payments whose answer is still outstanding are asked about and settled (POS-2).
    "payments-reconcile-pending": {
        "task": "tenants.for_each_salon",
        "schedule": 60.0,
        "args": ["payments.reconcile_pending"],
    },
    # The till's gateway refund parts still pending are sent again and recorded (POS-4).
    "pos-gateway-refunds-sync": {
        "task": "tenants.for_each_salon",
        "schedule": 60.0,
        "args": ["pos.gateway_refunds_sync"],
    },
    # Waitlist offers past their time and entries of past dates close (SCH-9).
    "waitlist-expire": {
        "task": "tenants.for_each_salon",
        "schedule": 300.0,
        "args": ["scheduling.waitlist_expire"],
    },
    # Low-stock digest (POS-8) each morning: 00:30 UTC is 08:30 in Asia/Shanghai; sent once per salon day.
    "inventory-low-stock-digest": {
        "task": "tenants.for_each_salon",
        "schedule": crontab(hour=0, minute=30),
        "args": ["inventory.low_stock_digest"],
    },
}
# Follow-up reminders go out from this hour of the salon's day on (CRM-6).
CRM_FOLLOW_UP_REMINDER_HOUR = env.int("CRM_FOLLOW_UP_REMINDER_HOUR", default=8)

# --- logging and errors -----------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"tenant": {"()": "salon_platform.logging.TenantContextFilter"}},
    "formatters": {"json": {"()": "salon_platform.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["tenant"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from salon_platform.observability import init_sentry

    init_sentry(SENTRY_DSN, environment=env.str("SENTRY_ENVIRONMENT", default="production"))
