"""``manage.py check`` reads every notice template and ``casework.toml``: a broken one is
reported naming the service and the template, before a clerk ever picks it."""

from __future__ import annotations

from typing import Any

from django.core import checks

from rathaus.casework.notice_templates import check_all


@checks.register()
def notice_templates_are_valid(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"Invalid notice template: {error}",
            hint="Fix the named field in catalog/services/<service>/notices/<template>.toml.",
            id="casework.E001",
        )
        for error in check_all()
    ]
