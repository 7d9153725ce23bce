"""Django settings for Rathaus, read from environment variables.

Defaults are safe for production (DEBUG off, secure cookies, HSTS). ``RATHAUS_ENV`` selects
``production`` (default), ``demo`` (``make run`` on localhost over plain HTTP) or ``test``.
In production a missing required setting stops the start with a clear message.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(environ.Env().str("RATHAUS_VAR_DIR", default=str(PROJECT_DIR / "var")))

env = environ.Env()
RATHAUS_ENV = env.str("RATHAUS_ENV", default="production")
if RATHAUS_ENV not in {"production", "demo", "test"}:
    raise ImproperlyConfigured(
        f"RATHAUS_ENV must be production, demo or test, not {RATHAUS_ENV!r}."
    )
PRODUCTION = RATHAUS_ENV == "production"


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"The environment variable {name} is required in production (RATHAUS_ENV=production). "
            "See docs/operations.md."
        )
    return value


def _local_secret_key() -> str:
    """A per-checkout key for demo and test runs, kept in var/ so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = (
    _required("SECRET_KEY")
    if PRODUCTION
    else env.str("SECRET_KEY", default="") or (_local_secret_key())
)
ALLOWED_HOSTS = (
    env.list("ALLOWED_HOSTS", default=[])
    if PRODUCTION
    else env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required in production, e.g. portal.example.de.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="" if PRODUCTION else "http://localhost:8000")
if PRODUCTION and not SITE_URL:
    raise ImproperlyConfigured(
        "SITE_URL is required in production, e.g. https://portal.example.de."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # widget templates for the KERN form renderer (FORM_RENDERER)
    "django.contrib.postgres",
    "rules.apps.AutodiscoverRulesConfig",
    "django_tasks",
    "django_tasks_db",
    # Rathaus modules, bottom layer first (DESIGN.md)
    "rathaus.core",
    "rathaus.documents",
    "rathaus.ledger",
    "rathaus.accounts",
    "rathaus.registers",
    "rathaus.records",
    "rathaus.mailbox",
    "rathaus.payments",
    "rathaus.forms",
    "rathaus.catalog",
    "rathaus.casework",
    "rathaus.applications",
    "rathaus.rescue",
    "rathaus.api",
    "rathaus.backoffice",
    "rathaus.portal",
    # After the Rathaus apps, so that their templates and translations win over these apps'
    # (accounts/templates over allauth's; core/formal_german.py over DRF's familiar German).
    "rest_framework",
    "drf_spectacular",
    "allauth",
    "allauth.account",
    "allauth.mfa",
]

MIDDLEWARE = [
    # REMOTE_ADDR and the scheme as the trusted reverse proxy saw them (TRUSTED_PROXIES)
    "rathaus.core.trusted_proxies.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /healthz, before the Host check, the session and the CSRF cookie (rathaus.core.health)
    "rathaus.core.health.HealthCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # the GovChain log's files on a local disk: public, cacheable, no cookie (ledger.serving)
    "rathaus.ledger.serving.PublishedLogMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "rathaus.core.null_characters.RejectNullCharactersMiddleware",
    "rathaus.core.page_cache.AnonymousPageCacheMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "rathaus.core.private_responses.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "rathaus.accounts.middleware.StaffSecondFactorMiddleware",
]

# Public pages served to anonymous visitors from a whole-page cache (rathaus.core.page_cache).
ANONYMOUS_PAGE_CACHE_SECONDS = env.int("ANONYMOUS_PAGE_CACHE_SECONDS", default=60)
ANONYMOUS_PAGE_CACHE_EXACT = ("/",)
ANONYMOUS_PAGE_CACHE_PATHS = (
    "/leistungen/",
    "/leichte-sprache/",
    "/gebaerdensprache/",
    "/impressum/",
    "/datenschutz/",
)
# The query parameters those pages read, by address prefix, each with the longest value that is
# still cached. Any other parameter, a repeated one or a longer value: served, but not cached, so
# made-up query strings cannot fill the cache. A search (q) is cached only when empty, as in the
# catalog's own cache: one copy per search term would let anyone churn the cache.
ANONYMOUS_PAGE_CACHE_QUERY = {
    "/leistungen/": {"gemeinde": 50, "lage": 50, "q": 0},
}

ROOT_URLCONF = env.str("RATHAUS_URLCONF", default="rathaus.urls")
WSGI_APPLICATION = "rathaus.wsgi.application"

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
                "csp.context_processors.nonce",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://… in production and CI); an embedded SQLite file otherwise.
if PRODUCTION:
    _required("DATABASE_URL")
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'rathaus.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            ),
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background jobs: Django's tasks API with the database backend (works on SQLite and PostgreSQL);
# `manage.py db_worker` runs them. Jobs survive worker restarts because they live in the database.
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "mail", "documents", "payments", "ledger"],
    }
}
# Periodic jobs enqueued by `manage.py run_scheduler`: (task, interval in seconds).
PERIODIC_JOBS = [
    (
        "rathaus.payments.tasks.reconcile_payments",
        env.int("PAYMENTS_RECONCILE_SECONDS", default=300),
    ),
    ("rathaus.applications.tasks.delete_expired_drafts_job", 3600),
    ("rathaus.mailbox.tasks.queue_stranded_notifications", 600),
    ("rathaus.applications.receipts.queue_missing_receipts", 600),
    ("rathaus.applications.tasks.hand_over_paid_job", 600),
    ("rathaus.casework.tasks.remind_overdue_job", 3600),
    # Aussonderung: what a disposal left to do after its commit (docs/modules/records.md)
    ("rathaus.records.tasks.purge_pending_contents_job", 3600),
    ("rathaus.applications.tasks.purge_disposed_job", 3600),
    # E-Akte: renew the archive time stamps of sealed documents in time (records/preservation.py)
    ("rathaus.records.tasks.renew_archive_timestamps_job", 86400),
    # sessions that ended are deleted, as the privacy notice says (rathaus.core.sessions)
    ("rathaus.core.sessions.delete_ended_sessions", 600),
    # sign-ups never confirmed free their address again (rathaus.accounts.services)
    ("rathaus.accounts.tasks.delete_unconfirmed_signups_job", 3600),
]
# Renew an archive time stamp (PAdES B-LTA) this many days before its TSA certificate expires.
RECORDS_ARCHIVE_TIMESTAMP_RENEW_DAYS = env.int("RECORDS_ARCHIVE_TIMESTAMP_RENEW_DAYS", default=365)
# Hashes no longer trusted (BSI TR-02102): archive time stamps using one are renewed with
# RECORDS_ARCHIVE_TIMESTAMP_HASH (records/preservation.py).
RECORDS_WEAK_HASH_ALGORITHMS = env.list(
    "RECORDS_WEAK_HASH_ALGORITHMS", default=["md2", "md5", "sha1"]
)
RECORDS_ARCHIVE_TIMESTAMP_HASH = env.str("RECORDS_ARCHIVE_TIMESTAMP_HASH", default="sha512")
# The TSA's signature schemes and key lengths no longer trusted (BSI TR-02102-1: RSA and DSA
# from 3000 bits, EC from 250): archive time stamps resting on them are renewed too. The key
# lengths and the sunsets below are read as text and checked where they are used (records.E002,
# documents.E004 in check --deploy; the defaults apply meanwhile): a typo must not stop the start.
RECORDS_WEAK_SIGNATURE_ALGORITHMS = env.list("RECORDS_WEAK_SIGNATURE_ALGORITHMS", default=["dsa"])
RECORDS_MIN_RSA_KEY_BITS = env.str("RECORDS_MIN_RSA_KEY_BITS", default="3000")
RECORDS_MIN_EC_KEY_BITS = env.str("RECORDS_MIN_EC_KEY_BITS", default="250")
# Changes to the sunset dates of algorithms (documents/algorithms.py; ETSI TS 119 312 by
# default), e.g. "sha224=2028-01-01,rsa<3000=2028-01-01"; an empty date removes one.
DOCUMENTS_ALGORITHM_SUNSETS = env.str("DOCUMENTS_ALGORITHM_SUNSETS", default="")
# Casework: due date when a service's casework.toml names none; overdue reminders at most
# every so many days per case.
CASEWORK_DEFAULT_PROCESSING_DAYS = env.int("CASEWORK_DEFAULT_PROCESSING_DAYS", default=14)
CASEWORK_REMINDER_INTERVAL_DAYS = env.int("CASEWORK_REMINDER_INTERVAL_DAYS", default=7)
APPLICATION_DRAFT_DAYS = env.int("APPLICATION_DRAFT_DAYS", default=30)
# A sent application whose fee is not paid within this many days is deleted unsent.
APPLICATION_UNPAID_DAYS = env.int("APPLICATION_UNPAID_DAYS", default=30)
# All files of one application together (each file also has its field's max_size_mb).
APPLICATION_UPLOAD_LIMIT_MB = env.int("APPLICATION_UPLOAD_LIMIT_MB", default=50)
# The ClamAV daemon every upload is scanned by (core.scanning): tcp://host:port or unix:///path.
CLAMD_ADDRESS = env.str("CLAMD_ADDRESS", default="tcp://127.0.0.1:3310")
# The largest file sent to clamd, in bytes; clamd's StreamMaxLength, MaxFileSize and MaxScanSize
# must be at least this (docs/operations.md, ClamAV). Larger uploads are refused as too large.
CLAMD_MAX_BYTES = env.int("CLAMD_MAX_BYTES", default=25 * 1024 * 1024)
AUTH_USER_MODEL = "accounts.User"

# The rate limits count here: production needs one cache for all web processes (redis://… or
# dbcache://…); check --deploy warns about the per-process default (core.W002).
CACHES = {
    "default": env.cache_url("CACHE_URL", default="locmemcache://rathaus"),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Internationalisation: German first, English second.
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("Deutsch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
# English dates day first (27.03.1985) and times on the 24-hour clock, as the German ones.
FORMAT_MODULE_PATH = ["rathaus.core.formats"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {
        "BACKEND": env.str("STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if RATHAUS_ENV != "test"
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage":
    STORAGES["default"]["OPTIONS"] = {
        "bucket_name": _required("AWS_STORAGE_BUCKET_NAME"),
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
    }
WHITENOISE_USE_FINDERS = RATHAUS_ENV == "test"

# GovChain transparency log (docs/modules/ledger.md). LEDGER_SIGNING_KEY is a signed-note private
# key "PRIVATE+KEY+<origin>+<id>+<base64>" (manage.py ledger_key --generate) or an Ed25519 seed
# (32 bytes, base64 or hex); demo and test runs keep a generated one in var/.
# LEDGER_EXTRA_SIGNING_KEYS co-sign during a key rotation. Tiles and checkpoints are published to
# the storage LEDGER_STORAGE under LEDGER_PUBLISH_PREFIX.
LEDGER_ORIGIN = env.str(
    "LEDGER_ORIGIN", default="" if PRODUCTION else "rathaus.localhost/govchain"
) or _required("LEDGER_ORIGIN")


def _local_ledger_key() -> str:
    path = VAR_DIR / "ledger_signing_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_bytes(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()


LEDGER_SIGNING_KEY = (
    _required("LEDGER_SIGNING_KEY")
    if PRODUCTION
    else env.str("LEDGER_SIGNING_KEY", default="") or _local_ledger_key()
)
LEDGER_EXTRA_SIGNING_KEYS = env.list("LEDGER_EXTRA_SIGNING_KEYS", default=[])
# The publication has a storage of its own, readable by anyone (docs/govchain.md): on a local
# disk (MEDIA_ROOT, served by rathaus.ledger.serving) or a public S3 bucket.
LEDGER_STORAGE_BACKEND = env.str(
    "LEDGER_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
)
STORAGES["ledger"] = {"BACKEND": LEDGER_STORAGE_BACKEND}
if LEDGER_STORAGE_BACKEND == "rathaus.ledger.public_storage.PublicLogS3Storage":
    STORAGES["ledger"]["OPTIONS"] = {
        "bucket_name": env.str("LEDGER_S3_BUCKET", default="") or _required("LEDGER_S3_BUCKET"),
        "endpoint_url": env.str("LEDGER_S3_ENDPOINT_URL", default=None)
        or env.str("AWS_S3_ENDPOINT_URL", default=None),
        "default_acl": env.str("LEDGER_S3_ACL", default="public-read") or None,  # "": policy
        "custom_domain": env.str("LEDGER_S3_CUSTOM_DOMAIN", default=None),
    }
LEDGER_STORAGE = env.str("LEDGER_STORAGE", default="ledger")
LEDGER_PUBLIC_URL = env.str("LEDGER_PUBLIC_URL", default="")
LEDGER_PUBLISH_PREFIX = env.str("LEDGER_PUBLISH_PREFIX", default="govchain")

# Citizen-account login (docs/identity.md): the SAML SP's signing key and certificate (PEM files;
# demo and test installations generate their own under VAR_DIR/saml/) and Debian's xmlsec1.
SAML_SP_KEY_FILE = env.str("SAML_SP_KEY_FILE", default="")
SAML_SP_CERT_FILE = env.str("SAML_SP_CERT_FILE", default="")
SAML_XMLSEC_BINARY = env.str("SAML_XMLSEC_BINARY", default="/usr/bin/xmlsec1")

# E-Akte: the STORAGES alias that keeps the document versions of the files (docs/records.md).
RECORDS_STORAGE = env.str("RECORDS_STORAGE", default="default")

# E-mail: EMAIL_URL, e.g. smtp://user:pass@mail.example.de:587 or smtp+tls://…
if PRODUCTION:
    _required("EMAIL_URL")
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# check --deploy warns while the sender has no real domain (core.W001)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Rathaus <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds before an unresponsive SMTP server counts as down (the mail job then retries later).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# Postfach (docs/modules/mailbox.md). § 9 Abs. 1 OZG: a notice is deemed announced on the third
# day after it was made available for retrieval, or at the first retrieval if earlier. Days per
# legal basis (the key a notice carries in `legal_basis`), "default" for all others; counted on
# the calendar of MAILBOX_LEGAL_TIME_ZONE. Override as JSON:
# MAILBOX_ANNOUNCEMENT_DAYS='{"default": 4}'.
MAILBOX_ANNOUNCEMENT_DAYS: dict[str, int] = {
    "default": 3,
    **env.json("MAILBOX_ANNOUNCEMENT_DAYS", default={}),
}
MAILBOX_LEGAL_TIME_ZONE = "Europe/Berlin"

# Who runs this installation: shown in the header, the Impressum (§ 5 DDG), the privacy notice
# (Art. 13 GDPR) and the accessibility statement (BITV 2.0). `manage.py check --deploy` warns
# while name, address or e-mail are missing in production (rathaus.portal.checks).
RATHAUS_PORTAL_NAME = env.str("RATHAUS_PORTAL_NAME", default="Rathaus")
RATHAUS_OPERATOR = {
    "name": env.str(
        "RATHAUS_OPERATOR_NAME", default="" if PRODUCTION else "Rathaus (Demo-Installation)"
    ),
    "address": env.str("RATHAUS_OPERATOR_ADDRESS", default=""),
    "email": env.str("RATHAUS_OPERATOR_EMAIL", default="" if PRODUCTION else "rathaus@localhost"),
    "phone": env.str("RATHAUS_OPERATOR_PHONE", default=""),
    "representative": env.str("RATHAUS_OPERATOR_REPRESENTATIVE", default=""),
    "vat_id": env.str("RATHAUS_OPERATOR_VAT_ID", default=""),
    "supervisory_authority": env.str("RATHAUS_OPERATOR_SUPERVISORY_AUTHORITY", default=""),
    "data_protection_officer": env.str("RATHAUS_DATA_PROTECTION_OFFICER", default=""),
    "data_protection_authority": env.str(
        "RATHAUS_DATA_PROTECTION_AUTHORITY",
        default="Landesbeauftragte für Datenschutz und Informationsfreiheit Nordrhein-Westfalen, "
        "Kavalleriestraße 2-4, 40213 Düsseldorf, poststelle@ldi.nrw.de",
    ),
}
RATHAUS_MUNICIPALITY_NAME = env.str("RATHAUS_MUNICIPALITY_NAME", default=RATHAUS_OPERATOR["name"])
# Barrierefreiheit: feedback from the accessibility statement goes to this address (BITV 2.0 § 7).
ACCESSIBILITY_FEEDBACK_EMAIL = env.str(
    "ACCESSIBILITY_FEEDBACK_EMAIL", default=RATHAUS_OPERATOR["email"]
)
# Date of the last review of the accessibility statement (ISO date), shown on /barrierefreiheit/.
ACCESSIBILITY_STATEMENT_REVIEWED = env.str("ACCESSIBILITY_STATEMENT_REVIEWED", default="2026-11-22")
# Enforcement body named in the accessibility statement (§ 10d BGG NRW; other states: theirs).
ACCESSIBILITY_ENFORCEMENT_BODY = {
    "name": env.str(
        "ACCESSIBILITY_ENFORCEMENT_NAME",
        default="Ombudsstelle für barrierefreie Informationstechnik des Landes Nordrhein-Westfalen "
        "bei der Beauftragten der Landesregierung für Menschen mit Behinderung sowie für "
        "Patientinnen und Patienten in Nordrhein-Westfalen",
    ),
    "address": env.str(
        "ACCESSIBILITY_ENFORCEMENT_ADDRESS", default="Fürstenwall 25, 40219 Düsseldorf"
    ),
    "email": env.str(
        "ACCESSIBILITY_ENFORCEMENT_EMAIL", default="ombudsstelle-barrierefreie-it@mags.nrw.de"
    ),
    "url": env.str("ACCESSIBILITY_ENFORCEMENT_URL", default="https://www.lbb.nrw.de"),
}
# ePayment (docs/modules/payments.md): the provider redirects the citizen back to this base URL
# (default SITE_URL); FAILED/CANCELED attempts are re-checked this long for a late PAYED.
PAYMENTS_RETURN_BASE_URL = env.str("PAYMENTS_RETURN_BASE_URL", default="")
PAYMENTS_RECHECK_FINAL_HOURS = env.int("PAYMENTS_RECHECK_FINAL_HOURS", default=72)
# An attempt the provider still reports open after this long is given up (docs/modules/payments.md).
PAYMENTS_ATTEMPT_ABANDON_HOURS = env.int("PAYMENTS_ATTEMPT_ABANDON_HOURS", default=48)

# Django forms render KERN UX markup (labels, hints, errors next to the field).
FORM_RENDERER = "rathaus.core.forms_rendering.KernFormRenderer"

# Documents (PDF/A, electronic seal; docs/modules/documents.md). Fonts are embedded from this
# folder (Debian fonts-liberation2). The seal is a PKCS#12 file in production; demo and test
# installations generate their own CA and seal certificate under VAR_DIR/documents/seal/.
DOCUMENTS_FONT_DIR = env.str("DOCUMENTS_FONT_DIR", default="/usr/share/fonts/truetype/liberation2")
DOCUMENTS_SEAL_PKCS12 = env.str("DOCUMENTS_SEAL_PKCS12", default="")
DOCUMENTS_SEAL_PASSPHRASE = env.str("DOCUMENTS_SEAL_PASSPHRASE", default="")
DOCUMENTS_SEAL_TRUST_ROOTS = env.str("DOCUMENTS_SEAL_TRUST_ROOTS", default="")
# RFC 3161 time-stamping authority for seals (PAdES B-T); empty: seals without a time stamp.
DOCUMENTS_TSA_URL = env.str("DOCUMENTS_TSA_URL", default="")
DOCUMENTS_TSA_TIMEOUT = env.float("DOCUMENTS_TSA_TIMEOUT", default=10.0)
DOCUMENTS_TSA_REQUIRED = env.bool("DOCUMENTS_TSA_REQUIRED", default=False)
DOCUMENTS_TSA_TRUST_ROOTS = env.str("DOCUMENTS_TSA_TRUST_ROOTS", default="")
# PAdES B-LT/B-LTA: embed the certificates and revocation data (and, with a TSA, a document
# time stamp) so that a seal can be validated long after its certificate expired
# (docs/modules/documents.md)
DOCUMENTS_SEAL_LTV = env.bool("DOCUMENTS_SEAL_LTV", default=True)
DOCUMENTS_TEMPLATE_DIRS: list[str] = []

# Security: secure cookies and HSTS unless running the local demo over plain HTTP.
_https = env.bool("RATHAUS_HTTPS", default=PRODUCTION)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
LANGUAGE_COOKIE_SECURE = _https
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# The language cookie is read by the server only (LocaleMiddleware), like the others.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# A session ends SESSION_COOKIE_AGE after the login at the latest, however busy, and after as
# long without a request (rathaus.core.sessions; the privacy notice promises it).
SESSION_ENGINE = "rathaus.core.sessions"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
SECURE_HSTS_SECONDS = 63072000 if _https else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
# Only once the domain is submitted to the preload list (hstspreload.org): check --deploy
# warns (security.W021) until then.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_https)
# The probe reaches /healthz over plain HTTP at the process's internal address (core.health).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _https else None
# The reverse proxies in front of granian, comma-separated addresses or networks
# (127.0.0.1, 10.0.0.0/8). From them, and only from them, the client's address is taken from
# X-Forwarded-For and the scheme from X-Forwarded-Proto (rathaus.core.trusted_proxies). Empty
# (the default): REMOTE_ADDR as granian sets it, and X-Forwarded-Proto from any peer, so granian
# must then listen where only the proxy reaches it (docs/operations.md).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Strict Content Security Policy: no inline script or style, no third-party origins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# django-allauth: e-mail login, mandatory verification, MFA (TOTP, recovery codes, passkeys).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Rathaus] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if _https else "http"
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/ip,5/5m/key",
    "signup": "20/h/ip",
    "reset_password": "5/h/ip,3/h/key",
    "confirm_email": "3/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_PASSKEY_SIGNUP_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not _https
MFA_TOTP_ISSUER = "Rathaus"
# RFC 6238 § 5.2: accept the code of one step before or after the server's clock, so a code
# typed in the last seconds of its 30-second window still counts. allauth refuses a code used once.
MFA_TOTP_TOLERANCE = 1
ACCOUNT_ADAPTER = "rathaus.accounts.adapters.AccountAdapter"
MFA_ADAPTER = "rathaus.accounts.adapters.MFAAdapter"
MFA_FORMS = {
    "add_webauthn": "rathaus.accounts.forms.AddPasskeyForm",
    # TOTP codes: the last accepted time step is kept, no code at or before it (RFC 6238 § 5.2)
    "authenticate": "rathaus.accounts.forms.AuthenticateForm",
    "reauthenticate": "rathaus.accounts.forms.ReauthenticateForm",
}
# An address another account only claims (unconfirmed) does not block the sign-up.
ACCOUNT_FORMS = {"signup": "rathaus.accounts.forms.SignupForm"}
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# Adding, removing or making primary an e-mail address needs a recent login (the adapter counts
# a login within the timeout), and the owner is told of every change (formal-German mails in
# accounts/templates/account/email/ and mfa/email/).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_MAX_EMAIL_ADDRESSES = 3
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/konto/"
LOGOUT_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's classes with their English-only messages translated (rathaus.api)
    "DEFAULT_AUTHENTICATION_CLASSES": ["rathaus.api.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PARSER_CLASSES": [
        "rathaus.api.parsers.JSONParser",  # too deeply nested JSON is a 400, not a 500
        "rest_framework.parsers.FormParser",
        "rathaus.api.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rathaus.api.pagination.CappedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Throttles count per REMOTE_ADDR, never a client-sent X-Forwarded-For (behind a proxy,
    # TRUSTED_PROXIES sets REMOTE_ADDR to the client's address, as for the verification limits).
    "NUM_PROXIES": 0,
    "DEFAULT_THROTTLE_RATES": {
        "catalog": env.str("API_CATALOG_THROTTLE_RATE", default="120/min"),
    },
    "EXCEPTION_HANDLER": "rathaus.api.problems.problem_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rathaus API",
    "DESCRIPTION": (
        "REST API of the Rathaus digital citizen office. Error texts follow the request's "
        "Accept-Language (German by default, English)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Structured logging: one JSON object per line on stderr.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "rathaus.core.logging.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},  # not one INFO line per rendering step
    },
}
