"""Mvsic settings: every value comes from the environment (see README.md, "Configuration")."""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from mvsic.queues import quorum_queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
_DEV_SECRET_KEY = "dev-insecure-change-me-" + "x" * 40
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_celery_results",
    "django_celery_beat",
    "mvsic",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "analytics.middleware.EventCaptureMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a lockout (too many failed logins) into its answer.
    "axes.middleware.AxesMiddleware",
    "mvsic.middleware.ListenerCookieMiddleware",
]

ROOT_URLCONF = "mvsic.urls"
WSGI_APPLICATION = "mvsic.wsgi.application"

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
                "mvsic.context_processors.site",
            ],
        },
    },
]

# SQLite by default (zero setup); DATABASE_URL=postgres://... for PostgreSQL.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mvsic.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets web, worker and beat share the file; IMMEDIATE avoids lock upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_CONNECT_TIMEOUT", default=3
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out attempts
    "django.contrib.auth.backends.ModelBackend",
]
# Wrong passwords (login page or token endpoint) answered as such per account, and per
# address; the next attempt is locked out for MVSIC_LOCKOUT_HOURS (axes locks on the failure
# that reaches its limit, hence + 1). An admin lifts it by deleting the access attempts.
AXES_FAILURE_LIMIT = env.int("MVSIC_LOGIN_FAILURE_LIMIT", default=5) + 1
AXES_COOLOFF_TIME = env.float("MVSIC_LOCKOUT_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "mvsic.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "analytics:dashboard"
LOGOUT_REDIRECT_URL = "home"
# Password resets by email: consolemail:// prints them (development); smtp+tls://user:password@host:587
# sends them. The test suite uses Django's in-memory outbox.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Mvsic <noreply@localhost>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MVSIC_MEDIA_ROOT", default=str(VAR_DIR / "media"))

# Security: strict when DJANGO_DEBUG is off and HTTPS is declared.
SECURE_HTTPS = env.bool("DJANGO_SECURE_HTTPS", default=False)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS
# Load balancers probe over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000 if SECURE_HTTPS else 0)
# Both opt-in: a preloaded domain is hard to take back, and subdomains may not all have HTTPS.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
# check --deploy asks for both; leaving them off is this deployment's decision, not an oversight.
SILENCED_SYSTEM_CHECKS = [
    check
    for check, on in (
        ("security.W005", SECURE_HSTS_INCLUDE_SUBDOMAINS),
        ("security.W021", SECURE_HSTS_PRELOAD),
    )
    if not on
]
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is the development default: set a secret value "
        "(python3 -c 'import secrets; print(secrets.token_urlsafe(50))'), or DJANGO_DEBUG=true "
        "for development"
    )
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Every page's script and style come from the site itself: no inline script, no other origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Swagger UI and the chart set style attributes from script: styles may be inline,
        # scripts never.
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "media-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: its WWW-Authenticate header makes a refused request a 401, not a 403.
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
# API tokens expire (django-rest-knox); a password change revokes them (mvsic/tokens.py).
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.float("MVSIC_TOKEN_TTL_HOURS", default=24.0)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mvsic API",
    "DESCRIPTION": "Fan events in, artist statistics out.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # How the event endpoint knows its client (analytics/clients.py).
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ingestKey": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Ingest <key>`, from `manage.py ingest_key create NAME`",
            },
            "listenerCookie": {
                "type": "apiKey",
                "in": "cookie",
                "name": "mvsic_listener",
                "description": "The signed listener cookie every page of the site sets",
            },
        }
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "analytics.schema.events_request_exact",
    ],
}

# --- Mvsic ---
# Seconds a fan must listen before the page reports a play (whole track if shorter).
MVSIC_PLAY_THRESHOLD_SECONDS = env.float("MVSIC_PLAY_THRESHOLD_SECONDS", default=30.0)
# How often the dashboard refreshes its numbers, in seconds.
MVSIC_DASHBOARD_REFRESH_SECONDS = env.float("MVSIC_DASHBOARD_REFRESH_SECONDS", default=2.0)
# The largest artist picture accepted (it is stored as a WebP of at most 512x512).
MVSIC_PICTURE_MAX_BYTES = env.int("MVSIC_PICTURE_MAX_BYTES", default=5 * 1024 * 1024)
# Uploads: the largest audio file an artist may upload (refused before its body is read),
# and the longest track (a longer one is refused when it is processed).
MVSIC_UPLOAD_MAX_BYTES = env.int("MVSIC_UPLOAD_MAX_BYTES", default=200 * 1024 * 1024)
MVSIC_TRACK_MAX_SECONDS = env.float("MVSIC_TRACK_MAX_SECONDS", default=3 * 3600.0)
# Every uploaded file goes to a temporary file on disk, never into memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
MVSIC_LISTENER_COOKIE = "mvsic_listener"
MVSIC_MAX_BATCH = 500
MVSIC_MAX_BODY_BYTES = 1024 * 1024
# Events stamped further than this in the future are rejected.
MVSIC_MAX_CLOCK_SKEW_SECONDS = env.int("MVSIC_MAX_CLOCK_SKEW_SECONDS", default=300)

# --- Integrity: what a credited play is (docs/reliability.md, "Integrity") ---
# Events older than this are rejected at the edge (long enough for offline plays).
MVSIC_MAX_EVENT_AGE_SECONDS = env.int("MVSIC_MAX_EVENT_AGE_SECONDS", default=7 * 24 * 3600)
# A play may report this much more than the track's duration (buffering, clock drift).
MVSIC_PLAY_SLACK_SECONDS = env.float("MVSIC_PLAY_SLACK_SECONDS", default=5.0)
# Listening seconds one listener may be credited with in an hour, as a multiple of 3600.
MVSIC_LISTENING_FACTOR = env.float("MVSIC_LISTENING_FACTOR", default=2.0)
# Distinct listeners, and likes, one address may credit in an hour.
MVSIC_MAX_LISTENERS_PER_ADDRESS_HOUR = env.int("MVSIC_MAX_LISTENERS_PER_ADDRESS_HOUR", default=30)
MVSIC_MAX_LIKES_PER_ADDRESS_HOUR = env.int("MVSIC_MAX_LIKES_PER_ADDRESS_HOUR", default=60)
# Follows and unfollows one address may credit in an hour.
MVSIC_MAX_FOLLOWS_PER_ADDRESS_HOUR = env.int("MVSIC_MAX_FOLLOWS_PER_ADDRESS_HOUR", default=30)
# User agents the crawler list would flag but that are credited (substrings, comma-separated).
MVSIC_BOT_ALLOW = env.list("MVSIC_BOT_ALLOW", default=[])
# Reverse proxies in front of the web processes that append to X-Forwarded-For (0: none).
MVSIC_TRUSTED_PROXY_COUNT = env.int("MVSIC_TRUSTED_PROXY_COUNT", default=0)
if MVSIC_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("MVSIC_TRUSTED_PROXY_COUNT must be 0 or more")
# Event requests per second per client address, and the burst allowed above that.
MVSIC_RATE_LIMIT_PER_SECOND = env.float("MVSIC_RATE_LIMIT_PER_SECOND", default=20.0)
MVSIC_RATE_LIMIT_BURST = env.int("MVSIC_RATE_LIMIT_BURST", default=100)
# How long a web process trusts an ingest key it has checked (a revoked key stops after this).
MVSIC_INGEST_KEY_CACHE_SECONDS = env.float("MVSIC_INGEST_KEY_CACHE_SECONDS", default=10.0)

# A shared cache (redis://...) shares the rate limit across web processes; per process otherwise.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Celery over RabbitMQ ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="amqp://guest:guest@127.0.0.1:5672//")
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=8)
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
MVSIC_RECONCILE_EVERY_SECONDS = env.int("MVSIC_RECONCILE_EVERY_SECONDS", default=3600)
CELERY_BEAT_SCHEDULE = {
    "reconcile-counts": {
        "task": "analytics.reconcile_check",
        "schedule": MVSIC_RECONCILE_EVERY_SECONDS,
        # A missed run is dropped, never replayed in a backlog.
        "options": {"expires": MVSIC_RECONCILE_EVERY_SECONDS * 0.9},
    },
    "integrity-prune": {
        "task": "analytics.integrity_prune",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    "super-listeners": {
        "task": "analytics.super_listeners",
        "schedule": 600,
        "options": {"expires": 540},
    },
    # A zone changed anywhere (admin included) is rebuilt within a minute even if the
    # change's own task was lost.
    "zones-sync": {
        "task": "analytics.zones_sync",
        "schedule": 60,
        "options": {"expires": 50},
    },
    # The events table's monthly partitions, made before their month begins.
    "event-partitions": {
        "task": "analytics.event_partitions_ahead",
        "schedule": 86400,
        "options": {"expires": 3600},
    },
    # An upload whose processing task was never sent (broker down) is sent again.
    "uploads-requeue": {
        "task": "mvsic.tracks_requeue",
        "schedule": 300,
        "options": {"expires": 270},
    },
    # The home page reads the stored ranking: a play shows there within a minute.
    "trending-refresh": {
        "task": "analytics.trending_refresh",
        "schedule": 60,
        "options": {"expires": 50},
    },
}
# Publishing: how long a request waits for the broker's confirm before spooling to disk,
# how long to skip the broker after a failure, and how often the relay retries the spool.
MVSIC_PUBLISH_TIMEOUT_SECONDS = env.float("MVSIC_PUBLISH_TIMEOUT_SECONDS", default=1.0)
MVSIC_BROKER_PAUSE_SECONDS = env.float("MVSIC_BROKER_PAUSE_SECONDS", default=1.0)
MVSIC_RELAY_INTERVAL_SECONDS = env.float("MVSIC_RELAY_INTERVAL_SECONDS", default=1.0)
# "spool": a 202 once the event is fsync'd locally, relayed to the broker within
# MVSIC_RELAY_LINGER_SECONDS; "broker": a 202 once RabbitMQ confirmed it (slower).
MVSIC_ACCEPT_VIA = env.str("MVSIC_ACCEPT_VIA", default="spool")
if MVSIC_ACCEPT_VIA not in ("spool", "broker"):
    raise ImproperlyConfigured("MVSIC_ACCEPT_VIA must be 'spool' or 'broker'")
MVSIC_RELAY_LINGER_SECONDS = env.float("MVSIC_RELAY_LINGER_SECONDS", default=0.02)
# Events per broker message: RabbitMQ's cost is mostly per message, not per byte.
MVSIC_EVENTS_PER_MESSAGE = env.int("MVSIC_EVENTS_PER_MESSAGE", default=100)
if MVSIC_EVENTS_PER_MESSAGE < 1:
    raise ImproperlyConfigured("MVSIC_EVENTS_PER_MESSAGE must be at least 1")
MVSIC_SPOOL_DIR = env.path("MVSIC_SPOOL_DIR", default=str(VAR_DIR / "spool"))
# Known track ids are cached by each web process for this long (no query per event).
MVSIC_TRACK_CACHE_SECONDS = env.float("MVSIC_TRACK_CACHE_SECONDS", default=60.0)
# Batch consumer (`celery worker --event-batches`): events per transaction, and the
# longest an event waits in a worker's buffer before it is counted.
MVSIC_EVENT_BATCH_SIZE = env.int("MVSIC_EVENT_BATCH_SIZE", default=500)
MVSIC_EVENT_FLUSH_SECONDS = env.float("MVSIC_EVENT_FLUSH_SECONDS", default=0.1)
# The elastic supervisor (manage.py events_workers, the Procfile's worker): counting worker
# processes on this host, and when it adds and removes them (analytics/elastic.py).
MVSIC_WORKERS_MIN = env.int("MVSIC_WORKERS_MIN", default=1)
MVSIC_WORKERS_MAX = env.int("MVSIC_WORKERS_MAX", default=os.cpu_count() or 1)
if not 1 <= MVSIC_WORKERS_MIN <= MVSIC_WORKERS_MAX:
    raise ImproperlyConfigured("MVSIC_WORKERS_MIN must be at least 1 and at most MVSIC_WORKERS_MAX")
MVSIC_WORKERS_MESSAGES_PER_WORKER = env.int("MVSIC_WORKERS_MESSAGES_PER_WORKER", default=200)
if MVSIC_WORKERS_MESSAGES_PER_WORKER < 1:
    raise ImproperlyConfigured("MVSIC_WORKERS_MESSAGES_PER_WORKER must be at least 1")
MVSIC_WORKERS_MAX_BACKLOG_SECONDS = env.float("MVSIC_WORKERS_MAX_BACKLOG_SECONDS", default=10.0)
MVSIC_WORKERS_DOWN_AFTER_SECONDS = env.float("MVSIC_WORKERS_DOWN_AFTER_SECONDS", default=30.0)
MVSIC_WORKERS_POLL_SECONDS = env.float("MVSIC_WORKERS_POLL_SECONDS", default=2.0)
# Celery pool processes of each counting worker (they run the default queue's tasks).
WORKER_CONCURRENCY = env.int("WORKER_CONCURRENCY", default=1)
# Queue names; tests use their own so they never share a queue with a running site.
MVSIC_EVENTS_QUEUE = env.str("MVSIC_EVENTS_QUEUE", default="mvsic.events")
MVSIC_DEFAULT_QUEUE = env.str("MVSIC_DEFAULT_QUEUE", default="mvsic.default")

# Celery's tasks use the default queue only. The events queue (MVSIC_EVENTS_QUEUE, built by
# analytics.wire) is consumed by `celery worker --event-batches` and is not a task queue,
# so no worker started without that flag can take events off it.
# Deliveries of a message without an ack before it goes to its queue's dead-letter queue
# (<queue>.dead); the batch consumer parks dead-lettered events as poison.
MVSIC_DELIVERY_LIMIT = env.int("MVSIC_DELIVERY_LIMIT", default=20)
CELERY_TASK_QUEUES = [quorum_queue(MVSIC_DEFAULT_QUEUE, MVSIC_DELIVERY_LIMIT)]
CELERY_TASK_DEFAULT_QUEUE = MVSIC_DEFAULT_QUEUE
CELERY_TASK_DEFAULT_EXCHANGE = MVSIC_DEFAULT_QUEUE
CELERY_TASK_DEFAULT_ROUTING_KEY = MVSIC_DEFAULT_QUEUE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
