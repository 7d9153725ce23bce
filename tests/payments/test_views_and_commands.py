"""The return address the provider redirects to, the status page and the management commands."""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from rathaus.core.models import AuditEvent, Municipality
from rathaus.payments.models import PaymentStatus, PaymentTransaction, ProviderConfig
from rathaus.payments.providers import PaymentItem
from rathaus.payments.services import PaymentStart, start_payment
from tests.payments.conftest import Sandbox


def pay(config: ProviderConfig, return_url: str = "/antraege/5/") -> PaymentStart:
    return start_payment(
        municipality=config.municipality,
        payable_type="applications.application",
        payable_id="5",
        amount_cents=3060,
        items=[PaymentItem("permit", "Bewohnerparkausweis", 1, 3060)],
        purpose="Bewohnerparkausweis",
        return_url=return_url,
    )


@pytest.mark.django_db
def test_return_address_pulls_the_status_and_continues_to_the_application(
    provider_config: ProviderConfig, sandbox: Sandbox, client: Client
) -> None:
    start = pay(provider_config)
    location = sandbox.choose(start.redirect_url, "pay").headers["location"]
    path = location.removeprefix("http://localhost:8000")

    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 302
    assert response["Location"] == "/antraege/5/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Thank you, your payment was received."
    ]
    start.transaction.refresh_from_db()
    assert start.transaction.status == PaymentStatus.PAYED


@pytest.mark.django_db
def test_return_address_never_redirects_to_another_site(
    provider_config: ProviderConfig, sandbox: Sandbox, client: Client
) -> None:
    start = pay(provider_config, return_url="https://evil.example/")
    response = client.get(f"/zahlung/{start.transaction.request_id}/rueckkehr/")
    assert response["Location"] == f"/zahlung/{start.transaction.request_id}/"
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="de")
    assert page.status_code == 200
    assert "30,60 €" in page.content.decode()
    assert "Weiter zur Bezahlung" in page.content.decode()


@pytest.mark.django_db
def test_unknown_payment_addresses_are_not_found(client: Client) -> None:
    assert client.get(f"/zahlung/{uuid.uuid4()}/rueckkehr/").status_code == 404
    assert client.get("/zahlung/not-a-uuid/rueckkehr/").status_code == 404
    assert client.get(f"/zahlung/{uuid.uuid4()}/").status_code == 404


@pytest.mark.django_db
def test_reconcile_command_confirms_open_payments(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    start = pay(provider_config)
    sandbox.choose(start.redirect_url, "pay")
    out = io.StringIO()
    call_command("reconcile_payments", stdout=out)
    assert "checked 1, changed 1, failed 0" in out.getvalue()
    assert PaymentTransaction.objects.get().status == PaymentStatus.PAYED


@pytest.mark.django_db
def test_export_command_writes_the_treasury_csv(
    provider_config: ProviderConfig, sandbox: Sandbox, tmp_path: Path
) -> None:
    start = pay(provider_config)
    sandbox.choose(start.redirect_url, "pay")
    call_command("reconcile_payments", stdout=io.StringIO())
    target = tmp_path / "kasse.csv"
    call_command(
        "export_payments_csv",
        date=timezone.localdate().isoformat(),
        ags="05124000",
        output=str(target),
    )
    rows = target.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 2 and ";30,60;" in rows[1]
    with pytest.raises(CommandError):
        call_command("export_payments_csv", date="22.11.2026")
    with pytest.raises(CommandError):
        call_command("export_payments_csv", ags="00000000")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"date": "9999-12-31"}, "--date"),
        ({"date": "0001-01-01"}, "--date"),
        ({"ags": "0512\x004000"}, "--ags"),
        ({"ags": "9" * 500}, "--ags"),
        ({"output": "{tmp}/missing/kasse.csv"}, "--output"),
        ({"output": "{tmp}"}, "--output"),
        ({"output": "{tmp}/kas\x00se.csv"}, "--output"),
    ],
)
def test_export_command_refuses_bad_options_with_a_message(
    municipality: Municipality, tmp_path: Path, options: dict[str, str], message: str
) -> None:
    options = {key: value.format(tmp=tmp_path) for key, value in options.items()}
    with pytest.raises(CommandError, match=message):
        call_command("export_payments_csv", stdout=io.StringIO(), **options)


@pytest.mark.django_db
def test_export_command_takes_the_first_and_last_days_it_can_represent(
    municipality: Municipality,
) -> None:
    for day in ("0001-01-02", "9999-12-30"):
        out = io.StringIO()
        call_command("export_payments_csv", date=day, stdout=out)
        assert out.getvalue().startswith("Buchungstag;")


@pytest.mark.django_db
def test_reconciliation_task_reports_its_counts(
    provider_config: ProviderConfig, sandbox: Sandbox
) -> None:
    from rathaus.payments.tasks import reconcile_payments

    start = pay(provider_config)
    sandbox.choose(start.redirect_url, "pay")
    assert reconcile_payments.call() == {"checked": 1, "changed": 1, "failed": 0}


@pytest.mark.django_db
def test_demo_municipalities_can_be_pointed_at_the_sandbox(
    municipality: Municipality, settings: Any
) -> None:
    call_command("use_payment_sandbox", base_url="http://127.0.0.1:8100", stdout=io.StringIO())
    config = ProviderConfig.objects.get(municipality=municipality)
    assert config.effective_endpoint_id == "05124000"
    settings.RATHAUS_ENV = "production"
    with pytest.raises(CommandError):
        call_command("use_payment_sandbox")


def test_fee_quote_is_rendered_with_lines_and_total() -> None:
    from django.template.loader import render_to_string
    from django.utils import translation

    from rathaus.payments.fees import calculate_fee, parse_fee_schedule

    schedule = parse_fee_schedule(
        {"items": [{"id": "p", "kind": "fixed", "label": "Parkausweis", "amount_cents": 3060}]}
    )
    with translation.override("de"):
        html = render_to_string("payments/fee_quote.html", {"quote": calculate_fee(schedule, {})})
    assert "Parkausweis" in html and "30,60 €" in html
    assert "Sie bezahlen nach der Prüfung" in html


@pytest.mark.django_db
def _in_the_admin(client: Client, admin_user: Any) -> Client:
    """Staff reach the admin only with a second factor (accounts middleware)."""
    Authenticator.objects.create(
        user=admin_user, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    client.force_login(admin_user)
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "mfa", "type": "totp", "at": time.time()}
    ]
    session["account_authentication_methods_user"] = str(admin_user.pk)
    session.save()
    return client


def test_a_refund_recorded_meanwhile_by_someone_else_is_a_refusal_not_a_500(
    provider_config: ProviderConfig,
    sandbox: Sandbox,
    admin_user: Any,
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rathaus.payments import admin as payments_admin
    from rathaus.payments.services import record_refund

    admin_client = _in_the_admin(client, admin_user)
    start = pay(provider_config)
    sandbox.choose(start.redirect_url, "pay")
    call_command("reconcile_payments", stdout=io.StringIO())
    tx = PaymentTransaction.objects.get()

    def another_clerk_first(**kwargs: Any) -> Any:
        record_refund(transaction=tx, amount_cents=3060, reason="doppelt", actor=None)
        return record_refund(**kwargs)

    monkeypatch.setattr(payments_admin, "record_refund", another_clerk_first)
    admin_client.raise_request_exception = False
    response = admin_client.post(
        "/admin/payments/refund/add/",
        {"transaction": tx.pk, "amount_cents": 3060, "reason": "Antrag zurückgenommen"},
    )
    assert response.status_code == 403  # the reason shown; before, a 500


def test_staff_records_a_refund_in_the_admin_within_the_amount_paid(
    provider_config: ProviderConfig, sandbox: Sandbox, admin_user: Any, client: Client
) -> None:
    admin_client = _in_the_admin(client, admin_user)
    start = pay(provider_config)
    sandbox.choose(start.redirect_url, "pay")
    call_command("reconcile_payments", stdout=io.StringIO())
    tx = PaymentTransaction.objects.get()

    too_much = admin_client.post(
        "/admin/payments/refund/add/",
        {"transaction": tx.pk, "amount_cents": 3061, "reason": "zu viel"},
    )
    assert too_much.status_code == 200  # the form again, with the message next to the field
    assert tx.refunds.count() == 0

    admin_client.post(
        "/admin/payments/refund/add/",
        {"transaction": tx.pk, "amount_cents": 3060, "reason": "Antrag zurückgenommen"},
    )
    assert tx.refunds.get().amount_cents == 3060
    for address in [
        "/admin/payments/providerconfig/",
        f"/admin/payments/providerconfig/{provider_config.pk}/change/",
        "/admin/payments/paymenttransaction/",
        f"/admin/payments/paymenttransaction/{tx.pk}/change/",
        "/admin/payments/refund/",
    ]:
        assert admin_client.get(address).status_code == 200, address
    page = admin_client.get(f"/admin/payments/providerconfig/{provider_config.pk}/change/")
    assert 'type="password"' in page.content.decode()
    provider_config.secret = "geheim"
    provider_config.save()
    admin_client.post(
        f"/admin/payments/providerconfig/{provider_config.pk}/change/",
        {
            "municipality": provider_config.municipality_id,
            "provider": "xbezahldienste",
            "enabled": "on",
            "base_url": provider_config.base_url,
            "originator_id": "neu",
            "endpoint_id": "",
            "auth_scheme": "basic",
            "username": "kasse",
            "secret": "",
            "timeout_seconds": 5,
        },
    )
    provider_config.refresh_from_db()
    assert (provider_config.originator_id, provider_config.secret) == ("neu", "geheim")
    assert "geheim" not in str(
        AuditEvent.objects.filter(action="payment_provider.changed").get().after
    )


@pytest.mark.django_db
def test_deleting_a_payment_provider_in_the_admin_is_audited(
    provider_config: ProviderConfig, admin_user: Any, client: Client
) -> None:
    Authenticator.objects.create(
        user=admin_user, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    client.force_login(admin_user)
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "mfa", "type": "totp", "at": time.time()}
    ]
    session["account_authentication_methods_user"] = str(admin_user.pk)
    session.save()

    client.post(f"/admin/payments/providerconfig/{provider_config.pk}/delete/", {"post": "yes"})

    assert not ProviderConfig.objects.exists()
    event = AuditEvent.objects.get(action="payment_provider.deleted")
    assert event.before["originator_id"] == "rathaus-wuppertal"
    assert event.municipality == provider_config.municipality


def _provider_form(config: ProviderConfig, *, secret: str) -> dict[str, Any]:
    return {
        "municipality": config.municipality_id,
        "provider": "xbezahldienste",
        "enabled": "on",
        "base_url": config.base_url,
        "originator_id": "neu",
        "endpoint_id": "",
        "auth_scheme": "basic",
        "username": "kasse",
        "secret": secret,
        "timeout_seconds": 5,
    }


@pytest.mark.django_db
def test_saving_the_provider_without_a_new_secret_is_not_audited_as_a_secret_change(
    provider_config: ProviderConfig, admin_user: Any, client: Client
) -> None:
    provider_config.secret = "geheim"
    provider_config.save()
    admin_client = _in_the_admin(client, admin_user)
    address = f"/admin/payments/providerconfig/{provider_config.pk}/change/"

    # the form never shows the stored secret: an empty field keeps it
    admin_client.post(address, _provider_form(provider_config, secret=""))
    provider_config.refresh_from_db()
    assert (provider_config.originator_id, provider_config.secret) == ("neu", "geheim")
    kept = AuditEvent.objects.get(action="payment_provider.changed")
    assert kept.after["secret_changed"] is False

    # the stored secret typed again is no change either
    admin_client.post(address, _provider_form(provider_config, secret="geheim"))
    again = AuditEvent.objects.filter(action="payment_provider.changed").latest("pk")
    assert again.pk != kept.pk and again.after["secret_changed"] is False


@pytest.mark.django_db
def test_a_new_provider_secret_is_audited_as_a_secret_change_without_its_value(
    provider_config: ProviderConfig, admin_user: Any, client: Client
) -> None:
    provider_config.secret = "geheim"
    provider_config.save()

    _in_the_admin(client, admin_user).post(
        f"/admin/payments/providerconfig/{provider_config.pk}/change/",
        _provider_form(provider_config, secret="neues-geheimnis"),
    )

    provider_config.refresh_from_db()
    assert provider_config.secret == "neues-geheimnis"
    event = AuditEvent.objects.get(action="payment_provider.changed")
    assert event.after["secret_changed"] is True
    assert "neues-geheimnis" not in str(event.after) and "geheim" not in str(event.before)
