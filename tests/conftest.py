"""Shared fixtures for the whole suite.

Browser tests (``@pytest.mark.browser``) drive Debian's Chromium through Playwright against
pytest-django's ``live_server`` and check pages with a vendored axe-core::

    @pytest.mark.browser
    def test_start_page(page, live_server, axe_check):
        page.goto(live_server.url + "/")
        axe_check(page)

``page`` gives each test a fresh browser context (locale de-DE) and fails the test if the page
reports a Content Security Policy violation. No browser is ever downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("RATHAUS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# axe-core, vendored at a pinned version (tests/vendor/README.md).
AXE_SOURCE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the site's default language (German). Django's LocaleMiddleware
    activates a request's language for the thread and leaves it active after the response, so
    a test asking in English would otherwise leave English to whichever test runs next."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_storages(settings: Any) -> None:
    """Every test starts with empty in-memory storages (tests/settings.py), as its database
    starts empty: the GovChain sequencer refuses to sign a log that contradicts the checkpoint
    it finds published, as one left by an earlier test would."""
    settings.STORAGES = {**settings.STORAGES}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session (Debian's package, never a download)."""
    if not CHROMIUM.exists():
        pytest.skip(f"Browser tests need Chromium at {CHROMIUM} (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM would refuse to
    # run next to it although the calls are synchronous. Tests touch the DB only in this thread.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Any]:
    """A page in a fresh browser context (German locale, no cookies) on the live server.

    Relative URLs resolve against ``live_server.url``: ``page.goto("/")``. The test fails if the
    page logs a Content Security Policy violation (inline script or style, foreign origin).
    """
    # Import every URL module and view before the browser's first request, so the first page
    # load does not pay for it against the navigation timeout.
    from django.urls import get_resolver

    get_resolver().check()
    context = browser.new_context(
        locale="de-DE",
        base_url=live_server.url,
        extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"},
    )
    context.set_default_timeout(30_000)
    browser_page = context.new_page()
    csp_violations: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            csp_violations.append(message.text)

    browser_page.on("console", on_console)
    # For a test that must tell the page's violations from those of a script it injects.
    browser_page.csp_violations = csp_violations
    try:
        yield browser_page
    finally:
        context.close()
    assert not csp_violations, "Content Security Policy violations:\n" + "\n".join(csp_violations)


def _format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation['help']} "
            f"[{violation.get('helpUrl', '')}]"
        )
        for node in violation["nodes"][:5]:
            target = ", ".join(str(t) for t in node.get("target", []))
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {target}: {summary}")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def _axe_source() -> str:
    return AXE_SOURCE.read_text(encoding="utf-8")


@pytest.fixture
def axe_check(_axe_source: str) -> Callable[..., list[dict[str, Any]]]:
    """Run axe-core on the current page and fail on any WCAG 2.1 A/AA violation.

    ``axe_check(page)`` checks the whole document; ``axe_check(page, include="#main")`` a part.
    ``disable=["color-contrast"]`` switches off single rules (say why in the test).
    Returns axe's list of incomplete results ("needs review") for optional inspection.
    """

    def check(
        browser_page: Any, *, include: str | None = None, disable: list[str] | None = None
    ) -> list[dict[str, Any]]:
        # Evaluated through the DevTools protocol, so the page's CSP does not block it.
        if not browser_page.evaluate("() => typeof window.axe === 'object'"):
            browser_page.evaluate(_axe_source + "\n;undefined")
        options: dict[str, Any] = {
            "runOnly": {"type": "tag", "values": WCAG_TAGS},
            "resultTypes": ["violations", "incomplete"],
        }
        if disable:
            options["rules"] = {rule: {"enabled": False} for rule in disable}
        results = browser_page.evaluate(
            "async ([context, options]) => await window.axe.run(context || document, options)",
            [include, options],
        )
        violations = results["violations"]
        if violations:
            pytest.fail(
                f"axe found {len(violations)} WCAG 2.1 A/AA violation(s) on {browser_page.url}:\n"
                + _format_violations(violations),
                pytrace=False,
            )
        return list(results.get("incomplete", []))

    return check


@pytest.fixture
def call_wsgi() -> Callable[..., tuple[str, bytes]]:
    """Send a GET straight to ``rathaus.wsgi.application`` (what granian calls), past the test
    client, with the environ given; returns the status line and the body.

    As in Django's test client, the request signals do not close the test's database
    connection (it is inside the test's transaction, which ``close_old_connections`` would end).
    """
    import io

    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from rathaus.wsgi import application

    def call(path: str, query: str = "", **environ: Any) -> tuple[str, bytes]:
        statuses: list[str] = []
        request: dict[str, Any] = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "HTTP_HOST": "testserver",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(),
            **environ,
        }
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = application(request, lambda status, headers, *_: statuses.append(status))
            body = b"".join(response)
            getattr(response, "close", lambda: None)()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return statuses[0], body

    return call


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip browser tests with a clear reason when Chromium is missing."""
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}: browser tests skipped.")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
