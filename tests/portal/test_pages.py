"""The portal shell: pages in German and English, strict CSP, language switch, error pages."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

PAGES = {
    "/": ("Ihr digitales Rathaus", "Your digital town hall"),
    "/leichte-sprache/": ("Informationen in Leichter Sprache", "Information in Easy Language"),
    "/gebaerdensprache/": (
        "Informationen in Deutscher Gebärdensprache",
        "Information in German Sign Language",
    ),
    "/barrierefreiheit/": ("Erklärung zur Barrierefreiheit", "Accessibility statement"),
    "/impressum/": ("Impressum", "Legal notice"),
    "/datenschutz/": ("Datenschutzerklärung", "Privacy notice"),
}


def _h1(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert match, "page has no h1"
    return match.group(1).strip()


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_page_is_served_in_german_by_default(client: Client, path: str) -> None:
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="de">' in html
    assert _h1(html) == PAGES[path][0]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_page_is_served_in_english_after_switching_language(client: Client, path: str) -> None:
    switch = client.post("/i18n/setlang/", {"language": "en", "next": path})
    assert switch.status_code == 302
    assert switch["Location"] == path
    html = client.get(path).content.decode()
    assert '<html lang="en">' in html
    assert _h1(html) == PAGES[path][1]


@pytest.mark.django_db
def test_language_switch_is_a_post_form_with_next_and_no_token(client: Client) -> None:
    """No CSRF token: switching the language only sets a cookie, and public pages stay cacheable
    (rathaus.core.language)."""
    html = client.get("/impressum/?x=1").content.decode()
    form = re.search(
        r'<form class="rathaus-language" action="/i18n/setlang/" method="post">(.*?)</form>',
        html,
        re.S,
    )
    assert form, "language switch form missing"
    assert 'name="csrfmiddlewaretoken"' not in form.group(1)
    assert '<input type="hidden" name="next" value="/impressum/?x=1">' in form.group(1)
    assert 'name="language" value="en" lang="en">English</button>' in form.group(1)


@pytest.mark.django_db
def test_language_switch_works_back_to_german(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    assert '<html lang="de">' in client.get("/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*PAGES, "/does-not-exist/"])
def test_pages_carry_a_strict_csp_and_no_inline_code(client: Client, path: str) -> None:
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    directives = dict(
        ([*part.split(" ", 1), ""])[:2] for part in (p.strip() for p in csp.split(";")) if part
    )
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> found"
    assert not re.search(r"<style\b", html), "inline <style> found"
    assert not re.search(r"\sstyle=", html), "style attribute found"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler found"
    assert not re.search(r'<(script|link|img)[^>]*(src|href)="(https?:)?//', html), (
        "foreign resource"
    )


@pytest.mark.django_db
def test_shell_has_skip_link_landmarks_and_footer_links(client: Client) -> None:
    html = client.get("/").content.decode()
    assert '<a class="rathaus-skip-link" href="#main">Zum Hauptinhalt springen</a>' in html
    assert '<main id="main"' in html
    assert '<nav class="rathaus-nav" aria-label="Hauptnavigation">' in html
    for href, text in [
        ("/leistungen/", "Leistungen"),
        ("/antraege/", "Meine Anträge"),
        ("/postfach/", "Postfach"),
        ("/konto/login/", "Anmelden"),
        ("/konto/signup/", "Registrieren"),
    ]:
        assert re.search(rf'href="{href}"[^>]*>{text}</a>', html), href
    for href in [
        "/leichte-sprache/",
        "/gebaerdensprache/",
        "/barrierefreiheit/",
        "/impressum/",
        "/datenschutz/",
    ]:
        assert f'href="{href}"' in html
    assert "/static/vendor/kern/2.7.2/kern.min.css" in html
    assert "/static/vendor/htmx/2.0.11/htmx.min.js" in html


@pytest.mark.django_db
def test_logged_in_navigation_offers_account_and_post_logout(
    client: Client, django_user_model
) -> None:
    user = django_user_model.objects.create_user(email="kim@example.de", password="x-unused-pw-1")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert re.search(r'href="/konto/"[^>]*>Konto</a>', html)
    assert re.search(
        r'<form class="rathaus-nav__form" action="/konto/logout/" method="post">\s*'
        r'<input type="hidden" name="csrfmiddlewaretoken"',
        html,
    )
    assert ">Anmelden</a>" not in html


@pytest.mark.django_db
def test_current_section_is_marked_for_assistive_technology(client: Client) -> None:
    html = client.get("/").content.decode()
    assert 'aria-current="page"' not in html


@pytest.mark.django_db
def test_start_page_links_life_situations_and_search_to_the_catalog(client: Client) -> None:
    html = client.get("/").content.decode()
    assert re.search(r'<form class="rathaus-search" action="/leistungen/" method="get"', html)
    assert 'name="q" type="search"' in html
    for slug in [
        "umzug",
        "geburt",
        "heirat-familie",
        "auto-verkehr",
        "arbeit-gewerbe",
        "wahlen",
        "wohnen-soziales",
        "aufenthalt-einbuergerung",
        "ehrenamt",
        "abfall",
    ]:
        assert f'href="/leistungen/?lage={slug}"' in html
    assert 'href="/leichte-sprache/"' in html
    assert 'href="/barrierefreiheit/"' in html


@pytest.mark.django_db
def test_unknown_page_gets_the_kern_404_page_in_the_chosen_language(client: Client) -> None:
    response = client.get("/gibt-es-nicht/")
    assert response.status_code == 404
    html = response.content.decode()
    assert _h1(html) == "Seite nicht gefunden"
    assert "kern.min.css" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert _h1(client.get("/gibt-es-nicht/").content.decode()) == "Page not found"


def test_error_templates_render_without_a_request() -> None:
    """500 and CSRF failure pages are rendered without context processors; they must not break."""
    from django.template import loader

    for name, heading in [
        ("500.html", "Entschuldigung, es gibt ein technisches Problem"),
        ("403_csrf.html", "Das Formular konnte nicht gesendet werden"),
        ("400.html", "Die Anfrage konnte nicht verarbeitet werden"),
        ("403.html", "Zugriff verweigert"),
    ]:
        html = loader.get_template(name).render()
        assert _h1(html) == heading
        assert "Rathaus (Demo-Installation)" in html


@pytest.mark.django_db
def test_csrf_failure_shows_the_kern_page(client: Client) -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post("/barrierefreiheit/", {"message": "x"})
    assert response.status_code == 403
    assert _h1(response.content.decode()) == "Das Formular konnte nicht gesendet werden"


@pytest.mark.django_db
def test_messages_are_rendered_as_kern_alerts(client: Client) -> None:
    response = client.post("/barrierefreiheit/", {"message": "Kontrast zu gering"}, follow=True)
    html = response.content.decode()
    assert re.search(r'<div class="kern-alert kern-alert--success" role="status">', html)
    assert "Vielen Dank. Ihre Rückmeldung wurde gesendet." in html


@pytest.mark.django_db
def test_staff_see_the_back_office_in_the_navigation(client: Client, django_user_model) -> None:
    citizen = django_user_model.objects.create_user(email="a@example.de", password="x-unused-pw-1")
    clerk = django_user_model.objects.create_user(
        email="b@example.de", password="x-unused-pw-1", is_staff=True
    )
    clerk.groups.add(Group.objects.get_or_create(name="clerk")[0])  # the queue needs a role
    client.force_login(citizen)
    assert 'href="/backoffice/"' not in client.get("/").content.decode()
    client.force_login(clerk)
    # staff without a second factor are sent to set one up; that page has the shell too
    html = client.get("/", follow=True).content.decode()
    assert re.search(r'href="/backoffice/"[^>]*>Backoffice</a>', html)
