"""Every service form in the catalog loads; the four first services have one."""

from __future__ import annotations

from pathlib import Path

import pytest

from rathaus.catalog.definitions import SERVICES_DIR
from rathaus.forms.schema import load_schema_file

FORMS = sorted(SERVICES_DIR.glob("*/form.toml"))


@pytest.mark.parametrize("path", FORMS, ids=[p.parent.name for p in FORMS])
def test_service_form_loads(path: Path) -> None:
    schema = load_schema_file(path, source=path.parent.name)
    assert schema.steps


def test_the_first_four_services_have_online_forms() -> None:
    names = {p.parent.name for p in FORMS}
    assert {"wohnsitz-anmelden", "bewohnerparkausweis", "briefwahl", "meldebescheinigung"} <= names
