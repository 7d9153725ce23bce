"""Every admin list with a date hierarchy refuses an impossible date as a wrong filter (no 500)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

pytestmark = pytest.mark.django_db

LISTS = sorted(
    (model._meta.app_label, model._meta.model_name, model_admin.date_hierarchy)
    for model, model_admin in admin.site._registry.items()
    if model_admin.date_hierarchy
)


def test_the_check_covers_the_admins_with_a_date_hierarchy() -> None:
    assert {label for label, _model, _field in LISTS} >= {"core", "mailbox", "records"}


@pytest.mark.parametrize(("app", "model", "field"), LISTS)
@pytest.mark.parametrize("dates", ["year=9999", "year=9999&{f}__month=12", "year=0"])
def test_an_impossible_date_in_the_address_is_a_wrong_filter(
    admin_client: Client, app: str, model: str, field: str, dates: str
) -> None:
    answer = admin_client.get(f"/admin/{app}/{model}/?{field}__{dates.format(f=field)}")
    assert answer.status_code == 302
    assert answer["Location"].endswith("?e=1")
