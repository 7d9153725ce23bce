from tests.fixtures.clamd import clamd_address  # noqa: F401
