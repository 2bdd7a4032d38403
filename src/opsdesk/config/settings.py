"""Django settings for OpsDesk, all read from OPSDESK_* environment variables."""

from __future__ import annotations

import dj_database_url

from opsdesk.config.environment import data_dir, env_bool, env_int, env_list, env_str, secret_key

DATA_DIR = data_dir()
BASE_DIR = DATA_DIR.parent

DEBUG = env_bool("OPSDESK_DEBUG")
SECRET_KEY = secret_key(DATA_DIR)
ALLOWED_HOSTS = env_list("OPSDESK_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("OPSDESK_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("OPSDESK_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "opsdesk.core",
    "opsdesk.accounts",
    "opsdesk.portfolio",
    "opsdesk.tickets",
    "opsdesk.sla",
    "opsdesk.mail",
    "opsdesk.notifications",
    "opsdesk.chat",
    "opsdesk.webhooks",
    "opsdesk.knowledge",
    "opsdesk.catalog",
    "opsdesk.learning",
    "opsdesk.api",
    "opsdesk.web",
]

MIDDLEWARE = [
    "opsdesk.core.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "opsdesk.core.middleware.AuditContextMiddleware",
    # Last, so that it sees the outcome of authentication for the lockout it enforces.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opsdesk.config.urls"
ASGI_APPLICATION = "opsdesk.config.asgi.application"
WSGI_APPLICATION = "opsdesk.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "opsdesk.web.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("OPSDESK_DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A connection pool, not persistent connections: under ASGI every request runs in a
        # thread of its own, and per-thread connections would pile up past max_connections.
        DATABASES["default"]["OPTIONS"] = {
            # No JIT compilation: it pays off for long analytical queries, while a desk's
            # queries are short, and the planner's cost guesses made searches compile for tens
            # of milliseconds to save a few (measured: bench/search.py, docs/performance.md).
            "options": "-c jit=off",
            "pool": {
                "min_size": env_int("OPSDESK_DB_POOL_MIN", 2),
                "max_size": env_int("OPSDESK_DB_POOL_MAX", 10),
                "timeout": 10,
            },
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "opsdesk.sqlite3",
            "OPTIONS": {
                # Writers queue on the busy timeout instead of failing with "database is locked":
                # IMMEDIATE takes the write lock at BEGIN, so a read never has to be upgraded
                # to a write mid-transaction (the upgrade is what fails regardless of timeout).
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA cache_size=-20000;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (Redis when configured; throttling and lockout counters live here) ---
REDIS_URL = env_str("OPSDESK_REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication and passwords ------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("OPSDESK_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("OPSDESK_LOGIN_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "opsdesk.web.views.auth.lockout_response"
AXES_VERBOSE = False
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# --- Security headers --------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
HTTPS = env_bool("OPSDESK_HTTPS")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("OPSDESK_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("OPSDESK_MAX_REQUEST_BYTES", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
MAX_UPLOAD_BYTES = env_int("OPSDESK_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)

# --- Files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"  # filled by `opsdesk serve` (collectstatic) on start
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Serve straight from the app folders: `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Mail -------------------------------------------------------------------
EMAIL_HOST = env_str("OPSDESK_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("OPSDESK_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("OPSDESK_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("OPSDESK_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("OPSDESK_EMAIL_STARTTLS")
EMAIL_USE_SSL = env_bool("OPSDESK_EMAIL_SSL")
EMAIL_TIMEOUT = env_int("OPSDESK_EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("OPSDESK_EMAIL_FROM", "OpsDesk <opsdesk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = env_str("OPSDESK_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
# The domain of the Message-IDs OpsDesk writes (default: the host of OPSDESK_SITE_URL).
OPSDESK_MAIL_DOMAIN = env_str("OPSDESK_MAIL_DOMAIN")
# Notifications: the name they are signed with, and where replies go (the desk's mailbox).
OPSDESK_DESK_NAME = env_str("OPSDESK_DESK_NAME", "IT service desk")
OPSDESK_NOTIFY_REPLY_TO = env_str("OPSDESK_NOTIFY_REPLY_TO")

# --- Mail in ----------------------------------------------------------------------
# host:port of the built-in SMTP/LMTP receiver `opsdesk serve` starts (off when empty).
SMTP_LISTEN = env_str("OPSDESK_SMTP_LISTEN")
MAIL_MAX_BYTES = env_int("OPSDESK_MAIL_MAX_BYTES", 25 * 1024 * 1024)
MAIL_SENDER_RATE_PER_HOUR = env_int("OPSDESK_MAIL_SENDER_RATE", 30)

# --- Live chat --------------------------------------------------------------------
# In memory (one server process) by default; Redis when OPSDESK_REDIS_URL is set.
CHANNEL_LAYERS = (
    {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    if REDIS_URL
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
)
# Other sites that may embed the chat widget (scheme://host[:port]); the portal itself always may.
CHAT_ALLOWED_ORIGINS = env_list("OPSDESK_CHAT_ALLOWED_ORIGINS", [])

# --- Background work ----------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env_str("OPSDESK_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": [],
    }
}
SCHEDULER_INTERVAL_SECONDS = env_int("OPSDESK_SCHEDULER_INTERVAL", 5)

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "opsdesk.core.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["opsdesk.core.api.permissions.RestrictedPermission"],
    "DEFAULT_PAGINATION_CLASS": "opsdesk.core.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "opsdesk.core.api.errors.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_RATES": {"auth": env_str("OPSDESK_AUTH_THROTTLE", "10/minute")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OpsDesk API",
    "DESCRIPTION": "IT service management: people, organisations, teams and everything built on them.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "CostPeriodEnum": "opsdesk.portfolio.choices.CostPeriod",
        "TicketTypeEnum": "opsdesk.tickets.choices.TicketType",
        "TicketStatusEnum": "opsdesk.tickets.choices.Status",
        "TicketChannelEnum": "opsdesk.tickets.choices.Channel",
        "ProblemStatusEnum": "opsdesk.tickets.choices.ProblemStatus",
        "LevelEnum": "opsdesk.tickets.choices.Level",
        "SkillLevelEnum": "opsdesk.accounts.choices.SkillLevel",
        "ChatStatusEnum": "opsdesk.chat.choices.SessionStatus",
        "ArticleStatusEnum": "opsdesk.knowledge.choices.ArticleStatus",
        "WebhookTicketChannelEnum": "opsdesk.webhooks.choices.SourceChannel",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "opsdesk.api.schema.add_problem_responses",
    ],
}

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
TIME_ZONE = env_str("OPSDESK_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Operations -------------------------------------------------------------------
METRICS_TOKEN = env_str("OPSDESK_METRICS_TOKEN")
LOG_LEVEL = env_str("OPSDESK_LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("OPSDESK_LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "opsdesk.core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}
JOB_RETENTION_DAYS = env_int("OPSDESK_JOB_RETENTION_DAYS", 30)

# --- Service desk -------------------------------------------------------------------
TICKET_REOPEN_DAYS = env_int("OPSDESK_TICKET_REOPEN_DAYS", 7)
