# The Django admin, with TOTP; allauth's rate limits and used TOTP codes emptied around each test
# (else the admin logins of many tests in one process end in "429 Too Many Requests").
from tests.backoffice.conftest import _empty_cache, admin_client  # noqa: F401
from tests.fixtures.clamd import clamd_address  # noqa: F401
