"""Settings, all read from the environment.

With nothing set, the app runs on one machine with nothing installed: SQLite for our data, an SQLite
iMIS sandbox (``manage.py imis_sandbox``), Celery tasks run eagerly in the web process, mail printed
to the console. Production sets DATABASE_URL, IMIS_*, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS.
"""

from pathlib import Path

import environ

from preference_center.lib.database_settings import (
    imis_database_settings,
    postgres_for_our_data,
    sqlite_for_several_processes,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-set-SECRET_KEY-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The absolute base of personal links printed in mailings, e.g. https://prefs.example.org
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "preference_center.admin_site.PreferenceCenterAdminConfig",  # django.contrib.admin, branded
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "adminsortable2",  # drag and drop order of the interests list, saved in place
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "preference_center",
    "interests",
    "branding",  # the association's brand on the member pages
    "subscribers",
    "sync",
    "mailing",
    "axes",  # admin sign-in lockout
    "ops",
]

MIDDLEWARE = [
    "ops.middleware.ProbeMiddleware",  # /healthz, /readyz, /metrics: before the host check and HTTPS redirect
    "ops.request_id.RequestIdMiddleware",
    "ops.middleware.HttpMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "preference_center.lib.locale.LinkLocaleMiddleware",  # the link's ?lang=, the switcher's cookie, the browser
    "django.middleware.common.CommonMiddleware",
    "preference_center.lib.request_guard.MemberFormBodyMiddleware",  # before the CSRF check reads the body
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: answers a locked-out sign-in with the lockout page
]

ROOT_URLCONF = "preference_center.urls"
WSGI_APPLICATION = "preference_center.wsgi.application"

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
                "branding.context_processors.brand",  # the association's brand on the member pages
            ],
        },
    },
]

# --- Databases -------------------------------------------------------------------------------------
# Our data: SQLite by default, PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'preference_center.sqlite3'}"),
}
# Persistent connections: opening one per request (PostgreSQL forks a backend for each) cost the member's
# page most of its throughput in bench/page.py (docs/benchmarks.md). Health checks: a connection
# that died with a database restart is replaced before a request uses it, instead of failing that request.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)  # without a round trip: preference_center.lib.postgresql

postgres_for_our_data(DATABASES["default"])
sqlite_for_several_processes(DATABASES["default"])

IMIS_DB_ALIAS = "imis"
DATABASES[IMIS_DB_ALIAS] = imis_database_settings(VAR_DIR)
DATABASE_ROUTERS = ["preference_center.routers.ImisRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ---------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# A sick Redis never holds a request: every Redis client (the cache, the broker) gives up on a connect or a
# reply after REDIS_TIMEOUT seconds (Redis answers in well under a millisecond), and after a failure the
# process leaves Redis alone for REDIS_BREAKER_SECONDS (preference_center.lib.breaker): rate limits let requests
# through, saves leave their push message to the sweeper.
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=0.5)
REDIS_BREAKER_SECONDS = env.float("REDIS_BREAKER_SECONDS", default=10.0)
_REDIS_TIMEOUTS = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT}

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "preference_center.lib.cache.ReusingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {**_REDIS_TIMEOUTS},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Longer than the longest retry countdown, so an unacknowledged message is redelivered only after the
# worker that held it is really gone.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=7200),
    **_REDIS_TIMEOUTS,
    # A publisher's first connection is tried once: kombu's default waits 2 s and tries again (a worker's
    # consumer reconnects with its own retries, unaffected).
    "max_retries": 0,
}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
# Publishes keep Celery's bounded retries (3, within a second), except a member's save's: it sends once
# (sync.outbox), and the sweeper delivers what it could not.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Preference center policy --------------------------------------------------------------------------
IMIS_ACTIVITY_TYPE = env.str("IMIS_ACTIVITY_TYPE", default="iOptout")
IMIS_SOURCE_SYSTEM = env.str("IMIS_SOURCE_SYSTEM", default="PREFCTR")
IMIS_UPDATED_BY = env.str("IMIS_UPDATED_BY", default="PREFCENTER")
IMIS_CREATE_MISSING_UD_ROWS = env.bool("IMIS_CREATE_MISSING_UD_ROWS", default=False)
# The member's language in iMIS, if it keeps one: "Name.COLUMN" or "TABLE.COLUMN" of a table keyed by ID (a UD
# table); over REST the CsContact property named by IMIS_API_CONTACT_PROPERTIES["language"]. Links carry it.
IMIS_LANGUAGE_FIELD = env.str("IMIS_LANGUAGE_FIELD", default="")
# iMIS REST API (iMIS EMS / Cloud): the site's base URL (with its virtual directory, if any) and a staff
# service user of its own (a second login expires the first one's token).
IMIS_API_URL = env.str("IMIS_API_URL", default="")
IMIS_API_USER = env.str("IMIS_API_USER", default="")
IMIS_API_PASSWORD = env.str("IMIS_API_PASSWORD", default="")
IMIS_API_CONNECT_TIMEOUT = env.float("IMIS_API_CONNECT_TIMEOUT", default=5.0)
IMIS_API_READ_TIMEOUT = env.float("IMIS_API_READ_TIMEOUT", default=60.0)
IMIS_API_MAX_IN_FLIGHT = env.int("IMIS_API_MAX_IN_FLIGHT", default=4)
IMIS_API_MAX_RETRIES = env.int("IMIS_API_MAX_RETRIES", default=4)
IMIS_API_BACKOFF_CAP = env.float("IMIS_API_BACKOFF_CAP", default=30.0)
# Legacy UD tables (`TABLE`) or fields (`TABLE.FIELD`) the association expects to offer: REST discovery
# reports each one the API cannot reach (no business object, no such property) instead of staying silent.
IMIS_API_UD_FIELDS = env.list("IMIS_API_UD_FIELDS", default=[])
# Names a real site may spell otherwise (not yet proven): member field=CsContact property pairs over the
# defaults (preference_center.imis.rest.reads), and the property pages are sorted by (empty: no OrderBy).
IMIS_API_CONTACT_PROPERTIES = env.dict("IMIS_API_CONTACT_PROPERTIES", default={})
IMIS_API_ORDER_BY = env.str("IMIS_API_ORDER_BY", default="ID")
IMIS_WRITE_NAME_LOG = env.bool("IMIS_WRITE_NAME_LOG", default=False)
IMIS_CHUNK_SIZE = env.int("IMIS_CHUNK_SIZE", default=2000)

# --- Members: personal links, the form ---------------------------------------------------------------
# Personal links stop working after this many days (0: they never expire; rotate a member's link in the
# admin to invalidate it).
PREFERENCE_LINK_MAX_AGE_DAYS = env.int("PREFERENCE_LINK_MAX_AGE_DAYS", default=0)
# iMIS Name.STATUS codes whose members get personal links (exports, API, lost-link mail); empty: every status,
# since association mailings reach lapsed members too. Codes are upper case in iMIS.
LINK_STATUSES = sorted({code.strip().upper() for code in env.list("LINK_STATUSES", default=[]) if code.strip()})
# Forwarded mail: require the address the mailing was sent to before saving.
PREFERENCES_CONFIRM_EMAIL = env.bool("PREFERENCES_CONFIRM_EMAIL", default=False)
# What the history keeps of the member's IP address: none, anonymised (IPv4 /24, IPv6 /48) or full.
PREFERENCES_IP_POLICY = env.str("PREFERENCES_IP_POLICY", default="anonymised")
# Rate limits per client IP ("60/m", "10/h", "5/15m"): personal pages, and "mail me my link" requests
# (also limited per address asked for).
PREFERENCES_RATE_LIMIT = env.str("PREFERENCES_RATE_LIMIT", default="60/m")
LOST_LINK_RATE_LIMIT = env.str("LOST_LINK_RATE_LIMIT", default="10/h")
LOST_LINK_EMAIL_RATE_LIMIT = env.str("LOST_LINK_EMAIL_RATE_LIMIT", default="3/h")
# Where the client IP comes from: REMOTE_ADDR, or e.g. HTTP_X_FORWARDED_FOR behind one trusted proxy
# (the right-most address, the one the proxy added, is used).
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="REMOTE_ADDR")
# Shown on the member's pages and in the "your link" mail.
ASSOCIATION_NAME = env.str("ASSOCIATION_NAME", default="")
# A roster pull holds a lock this long at most (a crashed pull frees it after this).
IMIS_PULL_LOCK_SECONDS = env.int("IMIS_PULL_LOCK_SECONDS", default=3600)

# --- The push (sync/services/push.py) ----------------------------------------------------------------
# Changes per iMIS transaction.
PUSH_BATCH_SIZE = env.int("PUSH_BATCH_SIZE", default=500)
# Batches one push task runs before handing over to a new message (other tasks get their turn).
PUSH_MAX_BATCHES_PER_RUN = env.int("PUSH_MAX_BATCHES_PER_RUN", default=20)
# iMIS unreachable: retry after BASE x 2^(attempts - 1) seconds, at most MAX (keep MAX well below
# CELERY_VISIBILITY_TIMEOUT: Redis holds the retry message unacknowledged until then).
PUSH_RETRY_BASE_DELAY = env.float("PUSH_RETRY_BASE_DELAY", default=10.0)
PUSH_RETRY_MAX_DELAY = env.float("PUSH_RETRY_MAX_DELAY", default=600.0)
# A worker renews its claim on the changes it writes every third of this; a claim not renewed for this
# long lost its worker (killed), and the sweeper puts its changes back to pending. With the sweeper every
# minute, a killed worker's changes are pushed again within PUSH_CLAIM_TIMEOUT + 60 seconds.
PUSH_CLAIM_TIMEOUT = env.int("PUSH_CLAIM_TIMEOUT", default=45)
# A change iMIS refuses on its own (a batch it refused was split down to it) is marked failed, with iMIS's
# message, once it has been tried this many times; before that it goes back to pending after a backoff.
PUSH_MAX_ATTEMPTS = env.int("PUSH_MAX_ATTEMPTS", default=3)
# Member saves within this many seconds share one push message, sent to run when the window closes.
# 0: one message per save.
PUSH_COALESCE_SECONDS = env.int("PUSH_COALESCE_SECONDS", default=1)
# Push messages the sweeper sends at most per run when changes are due (workers share a backlog).
PUSH_SWEEP_MESSAGES = env.int("PUSH_SWEEP_MESSAGES", default=4)

# --- Security --------------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG and SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
# strict-origin: our own static and link requests from a personal page carry the origin only, never the
# page's path (its token); POSTs still carry an Origin header, which the CSRF check compares.
SECURE_REFERRER_POLICY = "strict-origin"
# No request carries a file (preference_center.lib.request_guard): the parser stops at the first file part,
# before it writes anything to memory or disk.
DATA_UPLOAD_MAX_NUMBER_FILES = 0
X_FRAME_OPTIONS = "DENY"

# Admin sign-in (django-axes): after ADMIN_LOGIN_FAILURE_LIMIT wrong passwords for one user name from one
# client address (CLIENT_IP_HEADER), that pair is locked out for ADMIN_LOGIN_COOLOFF_MINUTES, the right
# password included; other users, and the same user from elsewhere, are not. A success resets the count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "subscribers.views.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # no "AXES: BEGIN" banner from every process at start; lockouts are still logged

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Mail ------------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="preferences@localhost")

# --- I18N, static ----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The member pages' languages: a complete catalogue in locale/ for each, compiled by bin/bootstrap.
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Preference Center for iMIS",
    "DESCRIPTION": "The interface for the mailing system: interests, target groups and their members with "
    "personal links, a member's preferences. Authenticate with `Authorization: Bearer <API key>` "
    "(keys are created in the admin).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Mailing system: REST API, webhook --------------------------------------------------------------
# Requests per API key (DRF rate syntax: N/second, minute, hour or day).
MAILING_API_RATE_LIMIT = env.str("MAILING_API_RATE_LIMIT", default="600/minute")
# Members per page of a target group (the client may ask for fewer or up to MAILING_API_MAX_PAGE_SIZE).
MAILING_API_PAGE_SIZE = env.int("MAILING_API_PAGE_SIZE", default=500)
MAILING_API_MAX_PAGE_SIZE = env.int("MAILING_API_MAX_PAGE_SIZE", default=1000)
# Optional webhook: a signed JSON event POSTed for each change of a member's preferences.
MAILING_WEBHOOK_URL = env.str("MAILING_WEBHOOK_URL", default="")
MAILING_WEBHOOK_SECRET = env.str("MAILING_WEBHOOK_SECRET", default="")
MAILING_WEBHOOK_TIMEOUT = env.float("MAILING_WEBHOOK_TIMEOUT", default=10.0)
MAILING_WEBHOOK_MAX_ATTEMPTS = env.int("MAILING_WEBHOOK_MAX_ATTEMPTS", default=10)
# Which changes send events (sources: form, one_click, admin, api, imis), and how far back the sweep looks
# (also: how much recent history is sent when the webhook is first configured).
MAILING_WEBHOOK_SOURCES = env.list("MAILING_WEBHOOK_SOURCES", default=["form", "one_click", "admin", "api", "imis"])
MAILING_WEBHOOK_LOOKBACK_HOURS = env.int("MAILING_WEBHOOK_LOOKBACK_HOURS", default=24)

# --- Operations (ops/) -------------------------------------------------------------------------------
# /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>`; unset: 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Seconds each readiness check (database, Redis, iMIS) may take before /readyz calls it failed.
HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", default=2.0)
# plain, or json: one JSON object per line with the request id that follows a save to the worker.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")

# No personal data in logs: request logging carries paths, and personal links carry only signed ids.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "ops.json_logs.JsonFormatter"},
    },
    "filters": {
        "redact_tokens": {"()": "preference_center.lib.redaction.RedactTokensFilter"},
        "request_id": {"()": "ops.request_id.RequestIdFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["redact_tokens", "request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every request's URL at INFO: over REST those name members (PartyId=eq:<iMIS ID>).
        "httpx": {"level": "WARNING"},
    },
}
