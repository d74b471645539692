"""Settings for chatsite, read from the environment with django-environ.

Every variable is listed in the README with its default. Nothing insecure is
on unless DEBUG says so; with no variables set the site runs on an SQLite file
and Channels' in-memory layer.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. Set DEBUG=1 for local "
            "development, or export SECRET_KEY=<a long random string>."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# One switch for HTTPS: secure cookies, HSTS and the redirect to https.
HTTPS = env.bool("HTTPS", default=False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "audit",
    # Django's Tasks API (the django-tasks backport) with its database backend: mail and other deferred work.
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "groups",
    "messaging",
    "search",
    "people",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF (the first to parse a body): upload size limits while the body streams in (chatsite/uploads.py).
    "chatsite.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Tags log records with the request's user id (chatsite/logging.py).
    "chatsite.logging.RequestContextMiddleware",
    # Records each session's device, address and last-seen time (at most once a minute; accounts/middleware.py).
    "accounts.middleware.SessionActivityMiddleware",
    # EMAIL_VERIFICATION=mandatory: unverified accounts see only their account pages.
    "accounts.middleware.EmailVerificationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Sync-only and last, so the chain above runs in one thread, not hopping per middleware (chatsite/middleware.py).
    "chatsite.middleware.SyncChain",
]

ROOT_URLCONF = "chatsite.urls"

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
                "csp.context_processors.nonce",
                "accounts.context_processors.email_verification",
                "chatsite.paths.socket_path",
            ],
            # chatsite is not an app: its template tags are named here ({% load paths %}).
            "libraries": {"paths": "chatsite.templatetags.paths"},
        },
    },
]

WSGI_APPLICATION = "chatsite.wsgi.application"
ASGI_APPLICATION = "chatsite.asgi.application"

# Database: an SQLite file by default, PostgreSQL (psycopg 3) with DATABASE_URL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The few fixed statements of the socket path and the conversation page's reads
    # (messaging.rawsql.prepared_cursor) are prepared by
    # psycopg once a connection has run them this many times; 0 turns it off (a pooler such as
    # PgBouncer in transaction mode before 1.21 does not keep prepared statements). The ORM's own
    # queries bind on the client and are never prepared.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        env.int("DB_PREPARE_THRESHOLD", default=5) or None
    )
    # On by default: under daphne every sync view runs in its own thread, and with
    # persistent connections each thread kept one open until PostgreSQL refused new
    # clients (measured in BENCHMARKS.md). DB_POOL=0 falls back to CONN_MAX_AGE.
    DB_POOL = env.int("DB_POOL", default=20)
    if DB_POOL:
        # A psycopg_pool connection pool per process, at most DB_POOL connections
        # (see docs/deploy.md); Django then closes connections back into the pool.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN", default=2),
            "max_size": DB_POOL,
            "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
            # Seconds a failing connection attempt retries (backing off) before the pool starts a
            # fresh one: short, so the app is back within seconds of the database, however long it
            # was away (the default, 300, backs off to minutes between tries).
            "reconnect_timeout": 5.0,
        }
    else:
        # Persistent connections: consumers and views reuse them instead of paying
        # a PostgreSQL connection set-up per query batch.
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
else:
    # SQLite: wait for the write lock instead of failing at once, and take it
    # at the start of a write transaction so concurrent senders queue cleanly.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not memory: async consumer tests and threads share it.
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DB_NAME", default=str(BASE_DIR / "test_db.sqlite3"))}

# Deferred work (mail, missed-message checks) is stored in the database and run by
# `manage.py db_worker` (django-tasks' database backend): a request never waits for the mail server.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Outgoing mail: one URL (smtp+tls://user:pass@host:587, smtp://..., consolemail://).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Chatsite <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 15  # seconds the worker waits for the mail server before the send counts as failed
# Links in emails are built from this (mail is written by the worker, outside any request).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Seconds to wait before each retry of a failed send; after the last one the mail is given up (and logged).
EMAIL_RETRY_DELAYS = [60, 5 * 60, 30 * 60, 2 * 60 * 60]
# Addresses: "optional" (unverified accounts can chat; a banner asks them to verify), "mandatory"
# (nothing but the account pages until verified) or "off" (no verification mail).
EMAIL_VERIFICATION = env.str("EMAIL_VERIFICATION", default="optional")
if EMAIL_VERIFICATION not in ("optional", "mandatory", "off"):
    raise ImproperlyConfigured("EMAIL_VERIFICATION must be optional, mandatory or off.")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Redis: the channel layer and the cache (login throttling, presence) when set.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Pub/sub: one Redis PUBLISH per event, fanned out in each receiving process.
    # It has no `capacity` (channels_redis/pubsub.py keeps an unbounded queue per
    # socket), so bursts are never dropped for a socket that has not drained yet.
    CHANNEL_LAYERS = {
        "default": {
            # channels_redis's pub/sub layer, with a socket's groups joined in one command (chatsite/layers.py).
            "BACKEND": "chatsite.layers.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env.str("CHANNEL_LAYER_PREFIX", default="chatsite")},
        }
    }
    if env.str("CHANNEL_LAYER", default="pubsub") == "redis":
        # The list-based RedisChannelLayer, kept for comparison (bench/, BENCHMARKS.md): one Redis
        # list per socket, so `capacity` is each socket's queue, as with the in-memory layer below.
        CHANNEL_LAYERS["default"]["BACKEND"] = "channels_redis.core.RedisChannelLayer"
        CHANNEL_LAYERS["default"]["CONFIG"]["capacity"] = 2000
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="chatsite"),
        }
    }
else:
    # One process. `capacity` is each socket's queue: events beyond it are dropped
    # (the default of 100 loses part of a 150-message burst to a busy socket).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 2000}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Longest password accepted (forms refuse more, so hashing cost stays bounded).
PASSWORD_MAX_LENGTH = 128

# URL names, resolved by Django (resolve_url) where it redirects.
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "messaging:list"

# Sessions: "remember me" keeps one for two weeks; otherwise it ends with the browser.
# Django's database sessions, read by hand-written SQL (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = HTTPS
CSRF_COOKIE_HTTPONLY = True  # JavaScript reads the token from the page.

# Brute-force protection of every password prompt (sliding window, see accounts/throttle.py).
LOGIN_FAILURE_WINDOW = 15 * 60  # seconds
LOGIN_MAX_FAILURES_PER_ACCOUNT = 5  # one account from one client address
LOGIN_MAX_FAILURES_PER_ADDRESS = 50  # one client address, across accounts
LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL = 100  # one account, across all addresses (distributed guessing)
# Password reset: links last an hour and work once (Django's token changes with the password).
PASSWORD_RESET_TIMEOUT = 60 * 60
PASSWORD_RESET_WINDOW = 60 * 60  # seconds over which reset requests are counted
PASSWORD_RESET_MAX_PER_EMAIL = 3  # reset mails asked for one address per window
PASSWORD_RESET_MAX_PER_ADDRESS = 20  # reset requests from one client address per window
EMAIL_LINK_MAX_AGE = 3 * 24 * 60 * 60  # seconds a verification or email-change link stays valid
EMAIL_VERIFY_MAX_PER_HOUR = 5  # verification mails one account can ask for again per hour
SIGNUP_MAX_PER_ADDRESS = 20  # sign-up attempts per client address per hour (sign-up tells when an email is taken)
# Two-factor authentication.
TWO_FACTOR_ISSUER = "Chatsite"  # the name authenticator apps show
TWO_FACTOR_REMEMBER_DAYS = 30  # "remember this device" lasts this long
TWO_FACTOR_RECOVERY_CODES = 10
TWO_FACTOR_PENDING_SECONDS = 5 * 60  # time between the password and the code
# Missed-message email: a direct message unread this long, with no socket open, is mailed (batched).
MISSED_MESSAGE_DELAY = 10 * 60  # seconds
# Sessions page: a session's last-seen time is written at most this often.
SESSION_ACTIVITY_INTERVAL = 60  # seconds
# Trust X-Forwarded-For's last hop for the client address (behind a proxy only).
USE_X_FORWARDED_FOR = env.bool("USE_X_FORWARDED_FOR", default=False)
# Peers whose X-Forwarded-For/-Proto the server applies to the client address and scheme
# (chatsite/serve.py): the proxy's addresses, comma-separated, or "*".
FORWARDED_ALLOW_IPS = env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1,::1")

# Security headers.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = HTTPS and env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers probe /healthz over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes and WhiteNoise serves from (the app serves static files itself).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Attachments: uploaded files live in the `attachments` storage, never under a public path.
# The local file system by default (MEDIA_ROOT: one machine); an S3-compatible object store when
# S3_BUCKET is set, so several machines share the files (docs/deploy.md).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
S3_BUCKET = env.str("S3_BUCKET", default="")
FILES_URL_EXPIRY = env.int("FILES_URL_EXPIRY", default=60)  # seconds a presigned URL works
if S3_BUCKET:
    ATTACHMENT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("S3_REGION", default="") or None,
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": FILES_URL_EXPIRY,
            "file_overwrite": False,
            # Reading an object through the app spills to a temporary file past 1 MiB, not memory.
            "max_memory_size": 1024 * 1024,
            "signature_version": "s3v4",  # presigned URLs with X-Amz-Expires, accepted by every region
            "addressing_style": env.str("S3_ADDRESSING_STYLE", default="") or None,
        },
    }
else:
    ATTACHMENT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # No base_url: these files are only ever served by the access-checked view.
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None},
    }
# How an allowed download is sent: "app" streams it from the app (development, one machine),
# "nginx" hands it to nginx with X-Accel-Redirect to an internal location, "redirect" sends a
# short-lived presigned URL (S3 only). Default: "redirect" with S3_BUCKET, else "app".
FILES_SERVE = env.str("FILES_SERVE", default="redirect" if S3_BUCKET else "app")
if FILES_SERVE not in ("app", "nginx", "redirect") or (FILES_SERVE == "redirect" and not S3_BUCKET):
    raise ImproperlyConfigured('FILES_SERVE must be "app", "nginx" or (with S3_BUCKET) "redirect".')
FILES_ACCEL_PREFIX = env.str("FILES_ACCEL_PREFIX", default="/_files/")  # nginx's internal location

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": ATTACHMENT_STORAGE,
    "staticfiles": {
        "BACKEND": "chatsite.storage.ChatStaticFilesStorage"  # hashed + gzip, JS imports rewritten
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Chat limits a reader may want to tune.
MESSAGE_MAX_LENGTH = 4000  # characters, after stripping
HISTORY_PAGE_SIZE = 50  # messages on the conversation page and default history limit
REACTION_MAX_EMOJI = 20  # distinct emoji on one message
REACTION_USERS_SHOWN = 10  # user ids per emoji in `reaction.changed` (the count says how many in all)
HISTORY_MAX_LIMIT = 100  # largest ?limit= the history endpoint accepts
SYNC_MAX_MESSAGES = 500  # messages in one sync reply
WS_MAX_FRAME_BYTES = 16 * 1024  # largest client frame
# Message writes (send, edit, delete) per user, through any adapter, counted in the cache
# (shared by every process with Redis) in fixed windows: at most MESSAGE_RATE_LIMIT per
# MESSAGE_RATE_WINDOW seconds (10 per second on average, 20 at once).
MESSAGE_RATE_LIMIT = 20
MESSAGE_RATE_WINDOW = 2  # seconds
WS_TYPING_INTERVAL = 2.0  # seconds between relayed typing frames per user and conversation
WS_FRAME_RATE = 30.0  # client frames of any type per second per socket, sustained
WS_FRAME_BURST = 60  # burst allowance for any client frames
WS_ABUSE_ERRORS = 20  # error frames within WS_ABUSE_WINDOW seconds that close the socket (code 4008)
WS_ABUSE_WINDOW = 10.0  # seconds
WS_PRESENCE_TTL = 30  # seconds a socket counts as online without a heartbeat (sent every third of it)
# Seconds between the re-checks of every open socket's account, session and conversations (one
# query per process): the safety net for access changes whose event was lost or never sent.
REVOCATION_RECHECK_SECONDS = 15
WS_SYNC_MAX_CURSORS = 500  # conversations in one `sync` frame
WS_MAX_SOCKETS_PER_USER = 30  # open sockets per user and server process; the next is closed with 4009
# Events waiting for a client that does not read: past either bound its socket is closed with 4010.
WS_MAX_PENDING_EVENTS = 1000
WS_MAX_PENDING_BYTES = 1024 * 1024
PEOPLE_PAGE_SIZE = 50  # people per page of the /people/ directory (and public groups per page of /groups/)
PEOPLE_SEARCH_LIMIT = 10  # default ?limit= of /people/search/
PEOPLE_SEARCH_MAX_LIMIT = 20  # largest ?limit= /people/search/ accepts
# Enumeration limit: people lookups (directory pages, search, profiles) per user per window.
PEOPLE_LOOKUP_LIMIT = 120
PEOPLE_LOOKUP_WINDOW = 60  # seconds
# Attachments (docs/protocol.md, "Attachments").
ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024  # one file
ATTACHMENT_MAX_PER_MESSAGE = 10
ATTACHMENT_QUOTA_BYTES = 1024**3  # stored per user (files, images and their thumbnails)
ATTACHMENT_MAX_PIXELS = 40_000_000  # width x height (x frames): larger images are refused (decompression bombs)
ATTACHMENT_THUMBNAIL_WIDTH = 320  # pixels; thumbnails are at most twice as tall
ATTACHMENT_UNATTACHED_TTL = 24 * 60 * 60  # seconds an upload may wait for its message (cleanup_attachments)
# Types refused outright (detected from the content): programs people may run by mistake.
ATTACHMENT_REFUSED_TYPES = ["application/x-msdownload", "application/x-executable", "application/x-mach-binary"]
# Avatars (docs/protocol.md, "People"): the largest picture accepted, and the square it is stored as.
AVATAR_MAX_BYTES = 5 * 1024 * 1024
AVATAR_SIZE = 256  # pixels, width and height
AVATAR_CACHE_SECONDS = 7 * 24 * 60 * 60  # how long a browser keeps one version (a new picture is a new URL)
# Uploads larger than this go to a temporary file on disk, not memory (Django's default, 2.5 MB).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
WS_DB_THREADS = env.int("WS_DB_THREADS", default=8)  # worker threads (so database connections) for socket work
# The interpreter's thread switch interval in seconds (sys.setswitchinterval) under `python -m chatsite.serve`;
# 0 keeps Python's 0.005. A worker thread back from the database waits up to this long for the event loop to
# let it run (BENCHMARKS.md, round two).
SWITCH_INTERVAL = env.float("SWITCH_INTERVAL", default=0.0)
# The garbage collector's third threshold in the ASGI process (chatsite/asgi.py): one full collection per this many
# middle-generation ones (Python's default 10). Full collections pause the event loop (BENCHMARKS.md, round two).
GC_FULL_THRESHOLD = env.int("GC_FULL_THRESHOLD", default=1000)
# Requests whose sync work (middleware, view) runs at once per process; the others wait their turn in order
# (chatsite/handler.py). 0: no limit.
HTTP_THREADS = env.int("HTTP_THREADS", default=4)
# Socket handshakes worked on at once per process (up to `hello`); the others wait their turn in
# arrival order (chatsite/handshakes.py). A reconnect storm then finishes handshakes one batch
# after another at the process's connect rate, instead of all of them together at the end.
WS_HANDSHAKES_IN_FLIGHT = 32
# uvicorn's WebSocket implementation under `python -m chatsite.serve` (chatsite/serve.py): `websockets-sansio`,
# or `websockets`, the one before it (more memory and handshake CPU per socket; BENCHMARKS.md, round two).
WS_PROTOCOL = env.str("WS_PROTOCOL", default="websockets-sansio")
if WS_PROTOCOL not in ("websockets-sansio", "websockets"):
    raise ImproperlyConfigured("WS_PROTOCOL must be websockets-sansio or websockets.")

# Names of groups (ignoring letter case) every new account joins, comma-separated in the environment.
DEFAULT_GROUPS = env.list("DEFAULT_GROUPS", default=[])

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# Seconds /healthz waits for the database and channel-layer round trips.
HEALTHZ_TIMEOUT = env.float("HEALTHZ_TIMEOUT", default=3.0)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "chatsite.logging.ContextFilter"},
        # The database down: one traceback a minute, not one per request (chatsite/outage.py).
        "outage": {"()": "chatsite.outage.OutageFilter"},
        "pool_outage": {"()": "chatsite.outage.OncePerMinute"},
        "layer_outage": {"()": "chatsite.outage.OncePerMinute"},
    },
    "formatters": {
        # time level logger user= conversation= message, one line per record (chatsite/logging.py).
        "line": {"()": "chatsite.logging.LineFormatter"}
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "line",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["outage"]},
        "psycopg.pool": {"filters": ["pool_outage"]},
        "channels_redis.pubsub": {"filters": ["layer_outage"]},
        "channels_redis.core": {"filters": ["layer_outage"]},
        "daphne": {"level": "WARNING"},
    },
}

AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
