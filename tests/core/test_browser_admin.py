"""Browser: the Django admin's pages pass axe: breadcrumbs and tabular inlines included."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from rathaus.core.models import Authority

pytestmark = pytest.mark.browser


def test_admin_pages_with_breadcrumbs_and_inlines_pass_axe(
    page: Any, live_server: Any, axe_check: Any, admin_client: Any
) -> None:
    """Django's breadcrumbs tell their links from the text by colour alone (axe
    "link-in-text-block"; our admin stylesheet underlines them), and its tabular inlines name
    their inputs only by column headers (axe "label"; ``core.admin_inlines`` names them)."""
    call_command("load_demo", verbosity=0)
    session = admin_client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    authority = Authority.objects.filter(units__isnull=False).order_by("pk").first()
    assert authority is not None
    for path in (
        "/admin/",
        "/admin/core/",
        "/admin/core/authority/",
        f"/admin/core/authority/{authority.pk}/change/",  # org units as a tabular inline
        f"/admin/core/municipality/{authority.municipality_id}/change/",  # authorities inline
        "/admin/accounts/",
    ):
        page.goto(path)
        assert not page.csp_violations, (path, page.csp_violations)
        if path != "/admin/":
            assert page.locator("div.breadcrumbs a").count() > 0
        axe_check(page)
        # axe, injected through the DevTools protocol, re-parses the markup of the inlines'
        # hidden template rows, which carry style attributes: Chromium logs that as a CSP
        # violation of the page although the page itself loaded without one (checked above).
        page.csp_violations.clear()
        if "/authority/" in path and path.endswith("/change/"):
            header = page.locator("fieldset.module table thead th").nth(1).inner_text()
            label = page.locator("input[name='units-0-code']").get_attribute("aria-label")
            assert label and label.casefold() == header.strip().casefold(), (label, header)
