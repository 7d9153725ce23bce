import pytest
from tests.accounts.factories import UserFactory, PASSWORD

pytestmark = [pytest.mark.browser]

def test_screens(page, live_server):
    u = UserFactory()
    page.set_viewport_size({"width": 1100, "height": 1400})
    page.goto("/konto/login/"); page.screenshot(path="/tmp/shots/login.png", full_page=True)
    page.goto("/konto/signup/")
    page.locator("#id_email").fill("kaputt")
    page.locator("form.rathaus-form button[type=submit]").click(); page.wait_for_load_state()
    page.screenshot(path="/tmp/shots/signup_err.png", full_page=True)
    page.goto("/konto/login/")
    page.locator("#id_login").fill(u.email); page.locator("#id_password").fill(PASSWORD)
    page.locator("form.rathaus-form button[type=submit]").click(); page.wait_for_url("**/konto/")
    page.screenshot(path="/tmp/shots/overview.png", full_page=True)
    page.goto("/konto/profil/")
    page.locator("#id_postal_code").fill("12"); page.locator("#id_birth_date").fill("2090-01-01")
    page.locator("form.rathaus-form button[type=submit]").click(); page.wait_for_load_state()
    page.screenshot(path="/tmp/shots/profile_err.png", full_page=True)
    page.goto("/konto/2fa/"); page.screenshot(path="/tmp/shots/mfa.png", full_page=True)
    page.goto("/konto/2fa/webauthn/add/"); page.screenshot(path="/tmp/shots/add.png", full_page=True)
    page.goto("/konto/2fa/totp/activate/"); page.screenshot(path="/tmp/shots/totp.png", full_page=True)
