"""Settings for every environment, read from environment variables.

Production differs from development only by environment variables; secrets have no
default unless DEBUG is on. `make run` sets the development values (portal/devservices.py).
"""

import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_required(name: str, dev_default: str) -> str:
    """A secret: required in production, a fixed placeholder only when DEBUG is on."""
    value = os.environ.get(name)
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"Set the {name} environment variable.")


DEBUG = env_bool("DJANGO_DEBUG")
SECRET_KEY = env_required("DJANGO_SECRET_KEY", "dev-only-not-secret-" + "x" * 40)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# The utility this portal serves: shown in the header, footer, emails and letters.
UTILITY_NAME = os.environ.get("UTILITY_NAME", "Clearwater Valley Water Environment Services")
UTILITY_SHORT_NAME = os.environ.get("UTILITY_SHORT_NAME", "CVWES")
UTILITY_PHONE = os.environ.get("UTILITY_PHONE", "503-555-0142")
UTILITY_EMAIL = os.environ.get("UTILITY_EMAIL", "customerservice@example.org")
UTILITY_REMIT_TO = os.environ.get("UTILITY_REMIT_TO", "PO Box 6940, Clearwater, OR 97228-6940")
UTILITY_ADDRESS = os.environ.get("UTILITY_ADDRESS", "150 Beavercreek Road, Clearwater, OR 97045")
# The state of the service area: an account's service address is in it unless its file says otherwise.
UTILITY_STATE = os.environ.get("UTILITY_STATE", "OR")
# The portal's public address, for links in emails and letters.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# seed_demo creates logins with published passwords: never allowed unless switched on.
DEMO_MODE = env_bool("PORTAL_DEMO_MODE", default=DEBUG)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "kernel",  # the shared kernel; its Django label is still "portal" (tables, permissions)
    "accounts",
    "billing",
    "autopay",
    "assistance",
    "certification",
    "portal",  # the wiring: seed_demo and the deploy checks
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kernel.i18n.LoginLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kernel.security.SessionLimitsMiddleware",
    "kernel.security.StaffTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "kernel.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.utility",
            ],
        },
    },
]

if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured(
        "Set DATABASE_URL (for example postgres://user:pass@host:5432/portal). "
        "`make run` and `make test` start a private PostgreSQL and set it for you."
    )
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# A real shared cache: allauth's and the linking form's rate limits count here. When Redis is
# down, pages and payments go on: a cache call fails fast, is logged and counts as a miss, and
# the rate limits let requests through until it is back (django-redis IGNORE_EXCEPTIONS).
CACHES = {
    "default": {
        "BACKEND": "kernel.cache.FailOpenRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "portal",
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 1,
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
RATELIMIT_FAIL_OPEN = True

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# The seed utility's published policy, one rule a message, plus Django's checks.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.validators.UtilityPasswordPolicyValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: email addresses are the login; verification is required.
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{UTILITY_SHORT_NAME}] "
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, stated here so they are reviewed with the code.
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = UTILITY_NAME
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
# A service account's page (billing's), where the accounts app's own pages send a customer back.
SERVICE_ACCOUNT_URL = "service_account_detail"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"

# Linking a service account: wrong answers allowed before a pause, counted three ways: per login,
# per client address (many throwaway logins from one place) and per account asked about (one
# account tried from many places).
SERVICE_ACCOUNT_LINK_RATE = os.environ.get("SERVICE_ACCOUNT_LINK_RATE", "5/15m")
SERVICE_ACCOUNT_LINK_ADDRESS_RATE = os.environ.get("SERVICE_ACCOUNT_LINK_ADDRESS_RATE", "20/h")
SERVICE_ACCOUNT_LINK_ACCOUNT_RATE = os.environ.get("SERVICE_ACCOUNT_LINK_ACCOUNT_RATE", "10/h")
# Quick-pay and invoice look-ups without a login, per address.
QUICK_PAY_LOOKUP_RATE = os.environ.get("QUICK_PAY_LOOKUP_RATE", "10/15m")
RATELIMIT_USE_CACHE = "default"
# How many proxies (load balancer, CDN) stand in front of the portal. Each rate limit counts per
# client address: with proxies, the one the outermost trusted proxy put in X-Forwarded-For
# (kernel.security.client_ip, used by django-ratelimit and allauth alike). 0: REMOTE_ADDR.
PORTAL_TRUSTED_PROXY_COUNT = int(os.environ.get("PORTAL_TRUSTED_PROXY_COUNT", "0"))
RATELIMIT_IP_META_KEY = "kernel.security.client_ip"

# Customer pages, emails and letters in English and Spanish. The choice is kept per login
# (accounts.User.language) and, before signing in, in a cookie.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["kernel.formats"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = os.environ.get("TIME_ZONE", "America/Los_Angeles")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# USWDS comes from the npm registry (package.json); its compiled assets are served as-is.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("uswds", BASE_DIR / "node_modules/@uswds/uswds/dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("PORTAL_MEDIA_ROOT", BASE_DIR / "media"))
# Customers' documents (assistance applications): no URL reaches this folder; a view checks
# who asks before serving a file. Keep it out of the web server's static and media roots.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PORTAL_PRIVATE_MEDIA_ROOT", BASE_DIR / "private-media"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
# `make run`'s file backend writes each email here for its terminal to print.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH") or None
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"{UTILITY_NAME} <{UTILITY_EMAIL}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Stripe: real keys in production; under `make run` and in tests, localstripe.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # empty: Stripe's own address
STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")
# Never more Stripe requests a second than this (test mode allows 25).
STRIPE_MAX_REQUESTS_PER_SECOND = float(os.environ.get("STRIPE_MAX_REQUESTS_PER_SECOND", "20"))

# Text messages through Twilio. Under `make run` and in tests, a local stand-in of Twilio's API
# (portal/twilio_standin.py) at TWILIO_API_BASE; empty: Twilio's own address.
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "")
# The name of the Stripe connector installed in the Twilio console, for <Pay> on the phone line.
TWILIO_PAY_CONNECTOR = os.environ.get("TWILIO_PAY_CONNECTOR", "Default")
# No text is sent from TEXT_QUIET_START to TEXT_QUIET_END o'clock, local time: it waits for morning.
TEXT_QUIET_START = int(os.environ.get("TEXT_QUIET_START", "21"))
TEXT_QUIET_END = int(os.environ.get("TEXT_QUIET_END", "8"))

# Bank account numbers for bank drafts are kept encrypted with this Fernet key.
PORTAL_ENCRYPTION_KEY = os.environ.get("PORTAL_ENCRYPTION_KEY", "")

# Utility Assistance Program (values a utility may change).
ASSISTANCE_UPLOAD_MAX_BYTES = int(os.environ.get("ASSISTANCE_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
ASSISTANCE_CREDIT_INTERVAL_DAYS = int(os.environ.get("ASSISTANCE_CREDIT_INTERVAL_DAYS", "365"))
ASSISTANCE_HOLD_DOOR_HANGER_FEES = env_bool("ASSISTANCE_HOLD_DOOR_HANGER_FEES", default=True)
# Photo IDs and proof of income are deleted this many days after the decision (three years, the
# usual records rule of assistance programs); a record of what was received stays.
ASSISTANCE_DOCUMENT_RETENTION_DAYS = int(os.environ.get("ASSISTANCE_DOCUMENT_RETENTION_DAYS", "1095"))
# An application started and not submitted (with its uploads) is deleted after this many days.
ASSISTANCE_DRAFT_DAYS = int(os.environ.get("ASSISTANCE_DRAFT_DAYS", "7"))
# Said on the status page until there are enough decisions of the last year to measure it.
ASSISTANCE_TYPICAL_DECISION_DAYS = int(os.environ.get("ASSISTANCE_TYPICAL_DECISION_DAYS", "21"))

# Collections. A utility that cannot shut service off certifies unpaid charges to the tax roll
# ("certify"); one that can charges late and door-hanger fees and sends the field crew ("shutoff").
COLLECTION_PATH = os.environ.get("COLLECTION_PATH", "certify")
# Accounts certified per transaction: each chunk commits on its own, so a stopped sweep keeps
# what it finished and the next run does the rest.
CERTIFICATION_SWEEP_CHUNK = int(os.environ.get("CERTIFICATION_SWEEP_CHUNK", "500"))
CERTIFICATION_PROCESSING_FEE = os.environ.get("CERTIFICATION_PROCESSING_FEE", "50.00")
CERTIFICATION_DESCRIPTION = os.environ.get("CERTIFICATION_DESCRIPTION", "WES")
CERTIFICATION_COUNTY = os.environ.get("CERTIFICATION_COUNTY", "Clackamas County")
PAST_DUE_NOTICE_MINIMUM = os.environ.get("PAST_DUE_NOTICE_MINIMUM", "25.00")
PRECERTIFICATION_NOTICE_DAY = os.environ.get("PRECERTIFICATION_NOTICE_DAY", "04-25")  # MM-DD, in April
LATE_FEE = os.environ.get("LATE_FEE", "5.00")
DOOR_HANGER_FEE = os.environ.get("DOOR_HANGER_FEE", "30.00")
# Shut-off path only, and required there: the first due date whose unpaid bills the portal may
# fine. Bills due earlier came from the old system, which already charged (or waived) their fees.
COLLECTIONS_START_DATE = os.environ.get("COLLECTIONS_START_DATE", "")
DOOR_HANGER_AFTER_DAYS = int(os.environ.get("DOOR_HANGER_AFTER_DAYS", "30"))
SHUTOFF_AFTER_DOOR_HANGER_DAYS = int(os.environ.get("SHUTOFF_AFTER_DOOR_HANGER_DAYS", "10"))
# Past-due letters ask for payment within this many days of the letter.
PAST_DUE_PAY_WITHIN_DAYS = int(os.environ.get("PAST_DUE_PAY_WITHIN_DAYS", "14"))
# The paper each batch of letters is printed on, named on the batch's cover sheet.
LETTER_PAPER = os.environ.get("LETTER_PAPER", "white")
LATE_NOTICE_PAPER = os.environ.get("LATE_NOTICE_PAPER", "gold")
DOOR_HANGER_PAPER = os.environ.get("DOOR_HANGER_PAPER", "green door-hanger stock")
NOTICES_ROOT = Path(os.environ.get("PORTAL_NOTICES_ROOT", BASE_DIR / "private-media" / "notices"))

# A customer may pay more than is owed, leaving a credit for future bills up to this amount.
PAYMENT_CREDIT_LIMIT = os.environ.get("PAYMENT_CREDIT_LIMIT", "300.00")

# Autopay (values a utility may change).
AUTOPAY_REMINDER_DAYS = int(os.environ.get("AUTOPAY_REMINDER_DAYS", "3"))
AUTOPAY_RETRY_DAYS = int(os.environ.get("AUTOPAY_RETRY_DAYS", "3"))
BANK_DRAFT_DAY = 20  # the Preauthorized Payments Agreement's day of the month
BANK_DRAFT_NOTICE_DAYS = int(os.environ.get("BANK_DRAFT_NOTICE_DAYS", "10"))
# Charged on the account when the bank returns a draft, where the utility charges one ("" or 0: none).
RETURNED_PAYMENT_FEE = os.environ.get("RETURNED_PAYMENT_FEE", "")
# NACHA: live debits from a new online bank account wait this many banking days after the
# settlement date of its prenote (the zero-dollar test entry), with no return.
BANK_PRENOTE_WAIT_DAYS = 3
# The utility's bank, for the NACHA file.
NACHA_IMMEDIATE_DESTINATION = os.environ.get("NACHA_IMMEDIATE_DESTINATION", "091000019")
NACHA_IMMEDIATE_DESTINATION_NAME = os.environ.get("NACHA_IMMEDIATE_DESTINATION_NAME", "UTILITY BANK")
NACHA_COMPANY_ID = os.environ.get("NACHA_COMPANY_ID", "1234567890")
NACHA_ORIGINATING_DFI = os.environ.get("NACHA_ORIGINATING_DFI", "09100001")

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = False  # set per task, only on tasks that are safe to run twice
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that queues a task (a receipt) must not hang while Redis is down: try briefly, then
# the caller logs it and the 15-minute reconciliation does the work when Redis is back.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# The beat schedule, in the utility's time zone (CELERY_TIMEZONE). Each entry says when in
# words; every task it names is safe to run twice.
CELERY_BEAT_SCHEDULE = {
    # Monthly, the 1st at 03:00 Pacific: bill the service month that just ended.
    "monthly-bill-run": {
        "task": "billing.tasks.bills_run_previous_month",
        "schedule": crontab(minute=0, hour=3, day_of_month=1),
    },
    # Daily at 06:00 Pacific: autopay reminders, then the day's drafts (and any days missed).
    "daily-autopay": {
        "task": "autopay.tasks.autopay_daily",
        "schedule": crontab(minute=0, hour=6),
    },
    # Daily at 07:00 Pacific: end payment plans with a missed installment.
    "daily-payment-plans": {
        "task": "assistance.tasks.payment_plans_check",
        "schedule": crontab(minute=0, hour=7),
    },
    # Every ten minutes: texts that waited for the end of quiet hours (9 p.m. to 8 a.m.).
    "texts-after-quiet-hours": {
        "task": "accounts.tasks.texts_send_queued_task",
        "schedule": crontab(minute="*/10"),
    },
    # Daily at 02:30 Pacific: delete assistance documents past their retention, and drafts
    # abandoned for a week.
    "daily-assistance-documents": {
        "task": "assistance.tasks.assistance_documents_purge",
        "schedule": crontab(minute=30, hour=2),
    },
    # Monthly, the 25th at 07:30 Pacific (after the 20th's due date): past-due letters and emails.
    "monthly-past-due-notices": {
        "task": "certification.tasks.past_due_notices_task",
        "schedule": crontab(minute=30, hour=7, day_of_month=25),
    },
    # Daily in April at 08:00 Pacific; sends on PRECERTIFICATION_NOTICE_DAY only (default April 25).
    "april-precertification-notices": {
        "task": "certification.tasks.precertification_notices_task",
        "schedule": crontab(minute=0, hour=8, month_of_year=4),
    },
    # Yearly, June 21 at 00:15 Pacific: certify what was more than 60 days past due on June 20.
    "june-certification-sweep": {
        "task": "certification.tasks.certification_sweep_task",
        "schedule": crontab(minute=15, hour=0, day_of_month=21, month_of_year=6),
    },
    # Daily at 05:00 Pacific, only for a utility that shuts service off: fees and door hangers.
    "daily-collections": {
        "task": "certification.tasks.collections_task",
        "schedule": crontab(minute=0, hour=5),
    },
    # Every minute: hand the queue the emails and tasks it missed while Redis was down.
    "outbox-flush": {
        "task": "portal.tasks.outbox_flush_task",
        "schedule": crontab(minute="*"),
    },
    # Every 15 minutes: settle card payments left pending (a closed tab, a lost webhook).
    "reconcile-payments": {
        "task": "billing.tasks.payments_reconcile_task",
        "schedule": crontab(minute="*/15"),
    },
}

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True

# A login ends after this long without a request, and this long after signing in.
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
SESSION_MAX_HOURS = int(os.environ.get("SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
# Changing the email address, two-step verification or a saved card asks for the password
# again when the last one was typed more than five minutes ago.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = int(os.environ.get("ACCOUNT_REAUTHENTICATION_TIMEOUT", "300"))
# Staff must sign in with an authenticator app: without one, every page but its set-up is refused.
STAFF_REQUIRE_TWO_FACTOR = env_bool("STAFF_REQUIRE_TWO_FACTOR", default=True)
# Two people for money: the clerk who keyed a payment batch cannot post it, and a refund that
# takes a payment's refunds above REFUND_APPROVAL_LIMIT waits for a supervisor. Off only for a
# one-person office (the audit trail still shows who did each step).
TWO_PERSON_RULE = env_bool("TWO_PERSON_RULE", default=True)
REFUND_APPROVAL_LIMIT = Decimal(os.environ.get("REFUND_APPROVAL_LIMIT", "250.00"))
# An adjustment (credit, debit, fee waiver, write-off) above this waits for a supervisor.
ADJUSTMENT_APPROVAL_LIMIT = Decimal(os.environ.get("ADJUSTMENT_APPROVAL_LIMIT", "100.00"))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# Content-Security-Policy: scripts only from the portal and Stripe.js's origin (localstripe's
# under `make run` and in tests); Stripe's card field and 3-D Secure dialog are its frames.
# Styles allow inline attributes: the admin and Stripe's field set them; scripts never run inline.
STRIPE_JS_ORIGIN = _origin(STRIPE_JS_URL)
STRIPE_API_ORIGIN = _origin(STRIPE_API_BASE) or "https://api.stripe.com"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, *filter(None, [STRIPE_JS_ORIGIN])],
        "connect-src": [SELF, STRIPE_API_ORIGIN],
        "frame-src": [*filter(None, [STRIPE_JS_ORIGIN]), "https://js.stripe.com", "https://hooks.stripe.com"],
        "img-src": [SELF, "data:"],
        "style-src": [SELF, "'unsafe-inline'"],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features the portal never uses are switched off for it and anything it frames
# (django-permissions-policy). Payments stay open to Stripe's card field and its 3-D Secure frame.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "usb": [],
    "payment": ["self", *filter(None, [STRIPE_JS_ORIGIN]), "https://js.stripe.com"],
}

# Nothing secret or personal in logs: requests are logged by the web server, not here.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Stripe's client logs every request's address at INFO; ids only, but noise.
        "stripe": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
