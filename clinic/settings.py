"""Settings, read from the environment (twelve-factor).

Every value that differs between a laptop, CI and production comes from an
environment variable; the defaults make `make run` work with nothing set.
"""

import json
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    CSRF_TRUSTED_ORIGINS=(list, []),
    TIME_ZONE=(str, "America/Sao_Paulo"),
    REDIS_URL=(str, ""),
    SECURE_SSL_REDIRECT=(bool, True),
    SECURE_HSTS_SECONDS=(int, 60 * 60 * 24 * 365),
)

DEBUG: bool = env("DEBUG")
# A development key is only acceptable while DEBUG is on; production must set one.
SECRET_KEY: str = env("SECRET_KEY", default="django-insecure-dev-only-key" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS: list[str] = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS: list[str] = env("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "axes",
    "clinic",
    "anymail",
    "patients",
    "patients.messaging",
    "patients.portal",
    "packages.catalog",
    "packages.patient_packages",
    "scheduling",
    "billing",
    "scheduling.reminders",
    "reports",
]

MIDDLEWARE = [
    # First: every later middleware's log lines carry the request's id.
    "clinic.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Opens the organization scope: everything below it runs inside the tenant.
    "clinic.tenancy.TenantMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
AUTH_USER_MODEL = "clinic.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.shell",
            ],
        },
    },
]

# Unset DATABASE_URL: an embedded SQLite file, so `make run` needs no server.
# Tests and production use PostgreSQL (the ledger's triggers and the booking
# exclusion constraints exist only there).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'clinic.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, telling PostgreSQL the tenant scope for its row-level
    # security policies (clinic/db/base.py, clinic/rls.py).
    DATABASES["default"]["ENGINE"] = "clinic.db"
# Persistent connections in production: a request does not pay PostgreSQL's
# connection set-up (most of a cheap request's time); Django checks a kept
# connection before reusing it, so a restarted database costs one error-free
# reconnect, not a failed request. Development and tests open one per request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
# Behind PgBouncer's transaction pooling, the tenant setting travels with
# each transaction instead of the connection (clinic/db/base.py), and
# server-side cursors, which outlive a transaction, are off.
DATABASE_POOL_MODE = env.str("DATABASE_POOL_MODE", default="session")
if DATABASE_POOL_MODE not in ("session", "transaction"):
    raise ImproperlyConfigured("DATABASE_POOL_MODE is 'session' or 'transaction'")
if DATABASE_POOL_MODE == "transaction":
    DATABASES["default"]["POOL_MODE"] = "transaction"
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# Server-side parameter binding: psycopg sends the values apart from the
# statement (no quoting in Python) and prepares a statement the connection
# has run five times (`prepare_threshold`, which Django leaves off), so
# PostgreSQL parses and plans it once per connection: PostgreSQL spends
# 35-50 % less CPU on the booking path, whose time is mostly the Python's
# (docs/scaling.md). Transaction pooling needs
# the values in the text (clinic/db/base.py): both off there.
DATABASE_SERVER_SIDE_BINDING = env.bool("DATABASE_SERVER_SIDE_BINDING", default=DATABASE_POOL_MODE == "session")
if DATABASES["default"]["ENGINE"] == "clinic.db" and DATABASE_SERVER_SIDE_BINDING:
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL: str = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "clinic.cache.FailoverRedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection on the login page and the token endpoint.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Internationalisation: the UI speaks Brazilian Portuguese (the demo's default),
# English, Spanish and German.
LANGUAGE_CODE = env("LANGUAGE_CODE", default="pt-br")
LANGUAGES = [
    ("pt-br", _("Portuguese (Brazil)")),
    ("en", _("English")),
    ("es", _("Spanish")),
    ("de", _("German")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates, times and numbers per language: Django's, adjusted and extended in
# one place (`clinic.formats`).
FORMAT_MODULE_PATH = ["clinic.formats"]
TIME_ZONE: str = env("TIME_ZONE")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Third-party front-end code comes from npm (package.json + lock); nothing
# built by others is committed.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
    ("vendor/fullcalendar-core", BASE_DIR / "node_modules" / "@fullcalendar" / "core"),
    # FullCalendar Scheduler's bundle (the standard plugins and the day view by
    # professional), and the clinic's time zone through the Luxon plugin; see
    # templates/scheduling/index.html.
    ("vendor/fullcalendar-scheduler", BASE_DIR / "node_modules" / "fullcalendar-scheduler"),
    ("vendor/fullcalendar-luxon3", BASE_DIR / "node_modules" / "@fullcalendar" / "luxon3"),
    ("vendor/luxon", BASE_DIR / "node_modules" / "luxon" / "build" / "global"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env.bool("STATIC_FROM_FINDERS", default=False)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve straight from the finders when nobody ran collectstatic (development, tests).
WHITENOISE_USE_FINDERS = DEBUG or env.bool("STATIC_FROM_FINDERS", default=False)
# Files the app writes (large exports); the web and worker processes share it.
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "clinic.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: a form or multipart body cannot say null or nest an object,
    # so it would not validate as the same JSON does; it answers 415.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "clinic.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["clinic.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "clinic.api.schema.ClinicAutoSchema",
    "EXCEPTION_HANDLER": "clinic.api.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic API",
    "DESCRIPTION": "Patients, session packages and their ledger, appointments and billing.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Request bodies as their own components: write-only fields, required
    # fields and non-blank strings (minLength 1) are told apart from answers.
    "COMPONENT_SPLIT_REQUEST": True,
}

# Celery: without REDIS_URL tasks run inline, in the process that queued them.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL or env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged when it ends, not when it starts: a worker killed
# in the middle leaves it to be delivered again. A pool process killed (the
# OOM killer) hands it back at once (reject on worker lost, else Celery would
# acknowledge it as failed); a whole worker killed leaves it unacknowledged
# in Redis, and another worker takes it back after the visibility timeout,
# which must stay longer than any task runs or waits for a retry (retry
# backoffs end at 600 s).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# A broker that does not answer fails the send at once; the task stays in the
# outbox (clinic.jobs) and the relay sends it when the broker is back.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "relay-outbox": {"task": "clinic.tasks.relay_outbox", "schedule": 60.0},
    # Monthly packages start their new cycle early on the 1st; the job runs
    # daily so a day the worker was down is caught up, and renews a month once.
    "renew-monthly-packages": {
        "task": "packages.patient_packages.tasks.renew_monthly_packages",
        "schedule": crontab(hour=3, minute=15),
    },
    "purge-expired-exports": {"task": "reports.tasks.exports_purge", "schedule": crontab(minute=40)},
    "clear-expired-sessions": {"task": "clinic.tasks.clear_expired_sessions", "schedule": crontab(hour=4, minute=5)},
    # Reminders due now (A7); each is claimed by one worker and sent once.
    "send-due-reminders": {"task": "scheduling.reminders.tasks.send_due_reminders", "schedule": 60.0},
}

# Messages to patients (A7): `console` prints them, `file` appends JSON lines to
# MESSAGING_FILE, `providers` sends SMS (Twilio), WhatsApp (Cloud API) and
# e-mail (EMAIL_BACKEND). See patients/messaging/backends.py.
MESSAGING_BACKEND: str = env("MESSAGING_BACKEND", default="console")
MESSAGING_FILE: str = env("MESSAGING_FILE", default=str(VAR_DIR / "messages.jsonl"))
MESSAGING_EMAIL_DOMAIN: str = env("MESSAGING_EMAIL_DOMAIN", default="clinic.local")
# The address providers call back (delivery statuses) and messages link to.
PUBLIC_URL: str = env("PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
TWILIO_API_URL: str = env("TWILIO_API_URL", default="https://api.twilio.com").rstrip("/")
TWILIO_ACCOUNT_SID: str = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN: str = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM: str = env("TWILIO_FROM", default="")
WHATSAPP_API_URL: str = env("WHATSAPP_API_URL", default="https://graph.facebook.com/v21.0").rstrip("/")
WHATSAPP_TOKEN: str = env("WHATSAPP_TOKEN", default="")
WHATSAPP_PHONE_NUMBER_ID: str = env("WHATSAPP_PHONE_NUMBER_ID", default="")
WHATSAPP_APP_SECRET: str = env("WHATSAPP_APP_SECRET", default="")
WHATSAPP_VERIFY_TOKEN: str = env("WHATSAPP_VERIFY_TOKEN", default="")
WHATSAPP_REMINDER_TEMPLATE: str = env("WHATSAPP_REMINDER_TEMPLATE", default="session_reminder")
EMAIL_BACKEND: str = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL: str = env("DEFAULT_FROM_EMAIL", default="clinic@localhost")
# Shown on the error page, next to the reference to quote (empty: not shown).
SUPPORT_EMAIL: str = env("SUPPORT_EMAIL", default="")
EMAIL_HOST: str = env("EMAIL_HOST", default="localhost")
EMAIL_PORT: int = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER: str = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD: str = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS: bool = env.bool("EMAIL_USE_TLS", default=False)
# How long the links of a team invitation and of a password reset stay valid.
INVITATION_TIMEOUT: int = env.int("INVITATION_TIMEOUT_DAYS", default=7) * 24 * 3600
PASSWORD_RESET_TIMEOUT: int = env.int("PASSWORD_RESET_TIMEOUT_HOURS", default=24) * 3600
# A django-anymail provider's settings as JSON, e.g. {"POSTMARK_SERVER_TOKEN": "..."}
# with EMAIL_BACKEND=anymail.backends.postmark.EmailBackend.
ANYMAIL: dict = json.loads(env("ANYMAIL", default="") or "{}")

# Exports of more rows than this are written by a Celery task (R3); the file is
# kept, and its signed link valid, for EXPORT_TTL_HOURS.
EXPORT_ASYNC_ROWS: int = env.int("EXPORT_ASYNC_ROWS", default=5000)
EXPORT_TTL_HOURS: int = env.int("EXPORT_TTL_HOURS", default=24)

SESSION_COOKIE_HTTPONLY = True
# Database sessions that know their user (clinic.sessions): the Team page
# shows each member's open sessions.
SESSION_ENGINE = "clinic.sessions"
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env("SECURE_SSL_REDIRECT")
    SECURE_HSTS_SECONDS = env("SECURE_HSTS_SECONDS")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # /healthz is probed over plain HTTP by the orchestrator.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "clinic.request_id.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [req %(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
