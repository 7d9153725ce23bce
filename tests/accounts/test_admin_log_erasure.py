"""Erasing an account also takes its e-mail address and name out of the Django admin's history
(``django_admin_log`` names objects by ``str()``); who changed what, and when, stays."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from rathaus.accounts.models import Profile, User
from rathaus.accounts.services import delete_account
from tests.accounts.factories import ProfileFactory
from tests.backoffice.conftest import _empty_cache, admin_client  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_admin_history_keeps_no_address_or_name_of_an_erased_account(
    admin_client: Client,  # noqa: F811
) -> None:
    profile = ProfileFactory(given_names="Vera", family_name="Vergessen")
    citizen = profile.user
    email = citizen.email
    staff = User.objects.filter(is_superuser=True).first()
    assert staff is not None
    LogEntry.objects.log_actions(staff.pk, [profile], CHANGE, change_message="[]")
    response = admin_client.post(f"/admin/accounts/user/{citizen.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=citizen.pk).exists()
    reprs = list(LogEntry.objects.values_list("object_repr", flat=True))
    assert not [text for text in reprs if email in text or "Vergessen" in text], reprs
    deletion = LogEntry.objects.get(
        action_flag=DELETION, content_type=ContentType.objects.get_for_model(User)
    )
    assert deletion.object_repr == f"#{citizen.pk}" and deletion.user_id == staff.pk


def test_a_citizens_own_deletion_redacts_earlier_admin_entries() -> None:
    profile = ProfileFactory(family_name="Vergessen")
    staff = ProfileFactory().user
    LogEntry.objects.log_actions(staff.pk, [profile.user], CHANGE, change_message="[]")
    LogEntry.objects.log_actions(staff.pk, [profile], CHANGE, change_message="[]")
    delete_account(user=profile.user)
    assert set(LogEntry.objects.values_list("object_repr", flat=True)) == {
        f"#{profile.user.pk}",
        f"#{profile.pk}",
    }
    assert not Profile.objects.filter(pk=profile.pk).exists()
