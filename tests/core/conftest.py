from tests.backoffice.conftest import admin_client  # noqa: F401 (the Django admin, with TOTP)
from tests.fixtures.clamd import clamd_address  # noqa: F401
