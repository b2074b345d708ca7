"""ModelHub settings: every knob comes from the environment through django-environ.

A bad value fails here, at start-up, with ImproperlyConfigured, not at the first download.
The README's configuration table lists every variable read below.
"""

import os
import secrets
import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from modelhub import env as envcheck
from settings_app.validators import check_storage_dir

BASE_DIR = Path(__file__).resolve().parent.parent

# huggingface_hub reads these at import time; ModelHub passes endpoint and token explicitly, so the
# library must not phone home (telemetry goes to huggingface.co whatever the endpoint) nor switch
# to the Xet protocol that bypasses our resumable, hashed transfer.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("MODELHUB_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into var/ (never committed)."""
    if key := env.str("SECRET_KEY", default=""):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envcheck.boolean("DEBUG", False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Not "django.contrib.admin": that autodiscovers every admin module in each process's start-up;
    # urls.py calls autodiscover() instead, so `verify`/`download` from cron start ~10% faster.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "settings_app",
    "api",
    "webhooks",
    "metrics",
    "serving",  # before downloads, whose ready() must stay last (it freezes what start-up built)
    "downloads",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "modelhub.urls"
WSGI_APPLICATION = "modelhub.wsgi.application"
ASGI_APPLICATION = "modelhub.asgi.application"

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
            ],
        },
    },
]


def _database() -> dict:
    db = env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'modelhub.sqlite3'}")
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # The web server and the worker write concurrently: WAL lets readers through, IMMEDIATE
        # transactions queue writers instead of failing with "database is locked" mid-transaction.
        db.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
        # Tests run worker subprocesses against the test database, so it must be a file; one per
        # test process, so parallel runs on one machine don't destroy each other's database.
        db["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"modelhub-test-{os.getpid()}.sqlite3")}
        # One connection per server thread, kept between requests: opening one (and its PRAGMAs) was a
        # quarter of what an admin progress poll costs. SQLite has no connection limit to exhaust.
        db.setdefault("CONN_MAX_AGE", 60)
    else:
        db.setdefault("CONN_HEALTH_CHECKS", True)
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# ModelHub stores no uploads. Set anyway: Django's test live server tries every URL under MEDIA_URL as a
# file of MEDIA_ROOT first, and with both empty that is any URL, looked up in the working folder.
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing folder before collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "admin:login"

# --- Security (python manage.py check --deploy passes with the variables documented in the README)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_SSL_REDIRECT = envcheck.boolean("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = envcheck.boolean("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = envcheck.boolean("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = envcheck.integer("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
if envcheck.boolean("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- ModelHub
if "MODELHUB_STORAGE_DIR" in os.environ and not os.environ["MODELHUB_STORAGE_DIR"].strip():
    raise ImproperlyConfigured("MODELHUB_STORAGE_DIR is set but empty: unset it for the default "
                               "(./models/hub) or name a folder")
try:  # the same rules as the Settings page: never a system folder or the code checkout
    MODELHUB_STORAGE_DIR = check_storage_dir(env.str("MODELHUB_STORAGE_DIR",
                                                     default=str(BASE_DIR / "models" / "hub")))
except ValueError as exc:
    raise ImproperlyConfigured(f"MODELHUB_STORAGE_DIR: {exc}") from None
MODELHUB_HUB_ENDPOINT = envcheck.http_url("MODELHUB_HUB_ENDPOINT", "https://huggingface.co")
MODELHUB_MAX_CONCURRENT_DOWNLOADS = envcheck.integer("MODELHUB_MAX_CONCURRENT_DOWNLOADS", 2,
                                                     minimum=1, maximum=1000)
MODELHUB_MIN_FREE_SPACE = envcheck.size("MODELHUB_MIN_FREE_SPACE", "1GB")  # bytes
# Optional dedicated key(s) for the token at rest, comma-separated, newest first (rotation).
MODELHUB_TOKEN_KEYS = env.list("MODELHUB_TOKEN_KEY", default=[])
# A running job whose heartbeat is older than this is considered lost (its worker died).
MODELHUB_HEARTBEAT_TIMEOUT = envcheck.integer("MODELHUB_HEARTBEAT_TIMEOUT", 60, minimum=1)
MODELHUB_MAX_ATTEMPTS = envcheck.integer("MODELHUB_MAX_ATTEMPTS", 3, minimum=1, maximum=100)
# Transient failures (reset connections, 5xx, 429) retry with exponential backoff from this delay.
MODELHUB_RETRIES = envcheck.integer("MODELHUB_RETRIES", 5, minimum=0, maximum=100)
MODELHUB_RETRY_BASE_DELAY = envcheck.number("MODELHUB_RETRY_BASE_DELAY", 1.0)
# A dispatched job no worker has claimed after this long is handed to the broker again (lost message).
MODELHUB_REDISPATCH_AFTER = envcheck.integer("MODELHUB_REDISPATCH_AFTER", 300, minimum=1)
# How often (seconds) the worker loop writes progress to the job row and checks for a cancel.
MODELHUB_PROGRESS_INTERVAL = envcheck.number("MODELHUB_PROGRESS_INTERVAL", 1.0, above=True)
# A connection slower than LIMIT bytes/s over TIME seconds is dropped and resumed (curl's
# --speed-limit/--speed-time): a trickling server must not hold a worker for ever.
MODELHUB_LOW_SPEED_LIMIT = envcheck.integer("MODELHUB_LOW_SPEED_LIMIT", 1000, minimum=0)
MODELHUB_LOW_SPEED_TIME = envcheck.number("MODELHUB_LOW_SPEED_TIME", 30.0, minimum=1.0)
# Webhooks (webhooks.sending): each POST waits at most TIMEOUT seconds; a failed delivery is tried up to
# ATTEMPTS times, RETRY_DELAY seconds after the first failure and twice as long after each next one.
MODELHUB_WEBHOOK_TIMEOUT = envcheck.number("MODELHUB_WEBHOOK_TIMEOUT", 5.0, above=True)
MODELHUB_WEBHOOK_ATTEMPTS = envcheck.integer("MODELHUB_WEBHOOK_ATTEMPTS", 6, minimum=1, maximum=20)
MODELHUB_WEBHOOK_RETRY_DELAY = envcheck.number("MODELHUB_WEBHOOK_RETRY_DELAY", 60.0, above=True)
# /metrics without a token for these client addresses (comma-separated CIDRs), e.g. the Prometheus host.
MODELHUB_METRICS_ALLOW = envcheck.networks("MODELHUB_METRICS_ALLOW")

# --- django-q2: Redis when REDIS_URL is set, else the ORM broker on the default database.
REDIS_URL = env.str("REDIS_URL", default="")
_Q_TIMEOUT = envcheck.integer("MODELHUB_TASK_TIMEOUT", 24 * 3600, minimum=60)
Q_CLUSTER = {
    "name": "modelhub",
    "workers": envcheck.integer("MODELHUB_WORKERS", 2, minimum=1, maximum=256),
    "recycle": 50,
    # A 50 GB checkpoint on a slow link takes hours: the task timeout must outlast it, and the broker's
    # retry (re-delivery of an unacknowledged task) must come after the timeout, or a healthy download
    # would be delivered twice. Duplicates are harmless anyway: run_job claims its job atomically.
    "timeout": _Q_TIMEOUT,
    "retry": _Q_TIMEOUT + 600,
    # ModelHub retries and re-queues jobs itself (bounded attempts, resume); django-q must not.
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 500,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5

# --- The JSON API under /api/v1/ (api/): API tokens (Bearer) or the admin session; JSON in and out.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiTokenAuthentication",
                                       "rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ModelHub API",
    "DESCRIPTION": "Ask what is installed and where, start and watch downloads, read and change settings.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's JavaScript comes from the installed sidecar package: no CDN (air-gapped sites).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "engine.redaction.RedactTokensFilter"},
                # runserver's request lines, without one per progress poll (modelhub/quiet_polls.py)
                "quiet_polls": {"()": "modelhub.quiet_polls.QuietPolls"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
                   "django.server": {"()": "django.utils.log.ServerFormatter",
                                     "format": "[{server_time}] {message}", "style": "{"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {
        "handlers": ["console"],
        "level": envcheck.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    },
    "loggers": {
        # As Django's default, plus the filter (a logger listed here loses the default's handlers).
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False,
                          "filters": ["quiet_polls"]},
        # huggingface_hub/httpx log request URLs at DEBUG; keep them quiet.
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
