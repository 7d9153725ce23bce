"""Settings for the test suite: the production settings with RATHAUS_ENV=test and fast hashing."""

import os

os.environ.setdefault("RATHAUS_ENV", "test")

from rathaus.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["default"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.InMemoryStorage",
}
