"""Settings for the test suite: the production settings with RATHAUS_ENV=test and fast hashing."""

import os

os.environ.setdefault("RATHAUS_ENV", "test")

from rathaus.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["default"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.InMemoryStorage",
}
STORAGES["ledger"] = {"BACKEND": "django.core.files.storage.InMemoryStorage"}  # noqa: F405

# Tests see every change at once; tests/core/test_page_cache.py switches the cache on.
ANONYMOUS_PAGE_CACHE_SECONDS = 0

# pytest-django empties the database with TRUNCATE after each transactional test; PostgreSQL
# refuses that for the audit trail unless the session allows it (core migration 0007).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    DATABASES["default"]["OPTIONS"]["options"] = "-c rathaus.allow_truncate=on"  # noqa: F405
