"""Issued forecasts stay as they were issued: the admin shows them, never changes or deletes."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.sites import site
from django.test import RequestFactory

from rathaus.rescue.models import StoredForecast


def test_stored_forecasts_can_only_be_read_in_the_admin(admin_user: Any) -> None:
    model_admin = site._registry[StoredForecast]
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
