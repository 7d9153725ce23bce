"""The notice in the admin site: its PDF is reached through the back office (which checks the
SHA-256 it was sealed with and who may see the case), never as a /media/ address that is a 404."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from rathaus.accounts.models import User
from rathaus.accounts.roles import ADMINISTRATOR
from rathaus.casework import services
from rathaus.casework.models import Case, Notice
from rathaus.core.models import OrgUnit
from tests.accounts.factories import StaffFactory
from tests.backoffice.conftest import staff_login

pytestmark = pytest.mark.django_db


def _with_totp(user: User) -> User:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    user.secret = secret  # type: ignore[attr-defined]
    return user


@pytest.fixture
def issued(case: Case, clerk: User) -> Notice:
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    return services.issue_notice(notice=notice, actor=clerk)


def _links(page: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', page)


def _change_page(client: Client, notice: Notice) -> str:
    response = client.get(f"/admin/casework/notice/{notice.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_admin_links_the_notice_pdf_through_the_back_office(
    issued: Notice, make_staff: Callable[..., User], meldewesen: OrgUnit
) -> None:
    # an administrator of the authority: may use the admin site and sees the case
    admin = _with_totp(make_staff(meldewesen, role=ADMINISTRATOR, is_staff=True, is_superuser=True))
    client = staff_login(Client(), admin)
    page = _change_page(client, issued)
    assert not [href for href in _links(page) if href.startswith("/media/")]
    url = f"/backoffice/vorgaenge/{issued.case_id}/bescheide/{issued.pk}/bescheid.pdf"
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_a_superuser_who_may_not_see_the_case_gets_no_link_at_all(issued: Notice) -> None:
    root = _with_totp(StaffFactory(is_staff=True, is_superuser=True))
    client = staff_login(Client(), root)
    page = _change_page(client, issued)
    assert not [href for href in _links(page) if href.startswith("/media/")]
    assert "bescheid.pdf" not in page
    assert issued.sha256 in page  # what was sealed is still shown
