"""The audit trail of a case (/backoffice/vorgaenge/<id>/protokoll/) shows every state change of
the case, also those other modules write about its application, its payments, its E-Akte and
its messages; never another case's or another citizen's, and in a bounded number of queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.accounts.roles import CLERK
from rathaus.applications.models import Application
from rathaus.applications.receipts import render_receipt
from rathaus.applications.services import PAYABLE_TYPE, start_application, submit_application
from rathaus.casework import services as casework
from rathaus.casework.models import Case
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import AuditEvent, Authority, Municipality, OrgUnit
from rathaus.mailbox import services as mailbox
from rathaus.mailbox.models import Message
from rathaus.mailbox.tasks import send_notification
from rathaus.payments.models import PaymentStatus, PaymentTransaction
from rathaus.payments.services import record_refund
from rathaus.records import disposal as records_disposal
from tests.accounts.factories import ProfileFactory
from tests.applications.meldebescheinigung import answer_all

pytestmark = pytest.mark.django_db

StaffClient = Callable[[User], Client]
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def certificate(demo: None) -> Service:
    service = Service.objects.get(slug="meldebescheinigung")
    Responsibility.objects.filter(service=service).update(local_fee=None)
    return service


def _submitted(service: Service, key: str) -> Application:
    """A citizen's Meldebescheinigung, submitted: its case, file and receipt in the Postfach."""
    citizen = ProfileFactory(family_name="Mustermann").user
    wuppertal = Municipality.objects.get(ags="05124000")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    answer_all(application)
    application = submit_application(
        application=application, idempotency_key=key, confirmed=True, actor=citizen
    )
    assert render_receipt.call(application.pk) in {"stored", "exists"}
    application = Application.objects.select_related("case__file").get(pk=application.pk)
    assert application.case is not None and application.case.file is not None
    return application


def _paid_twice(application: Application, admin: User) -> PaymentTransaction:
    """A second payment of the matter, paid and refunded (payments audits both)."""
    tx = PaymentTransaction.objects.create(
        municipality=application.municipality,
        payable_type=PAYABLE_TYPE,
        payable_id=str(application.pk),
        case_reference=application.reference,
        amount_cents=1000,
        purpose="Meldebescheinigung",
        provider="sandbox",
        status=PaymentStatus.PAYED,
        paid_at=timezone.now(),
        duplicate=True,
    )
    record_refund(transaction=tx, amount_cents=1000, reason="paid twice", actor=admin)
    return tx


def _work(application: Application, clerk: User, admin: User) -> dict[str, Any]:
    """What happens to one case across the modules; returns the objects other modules audit."""
    case = application.case
    assert case is not None and case.file is not None
    citizen = application.applicant
    receipt = Message.objects.get(owner=citizen, kind="receipt")
    send_notification.call(receipt.pk)
    mailbox.record_retrieval(message=receipt, user=citizen, request=None)
    version = casework.add_internal_document(
        case=case, title="Registerauszug", file=("auszug.pdf", "application/pdf", PDF), actor=clerk
    )
    hold = records_disposal.place_hold(file=case.file, reason="audit", actor=admin)
    tx = _paid_twice(application, admin)
    return {"receipt": receipt, "version": version, "hold": hold, "payment": tx}


@pytest.fixture
def worked(
    certificate: Service, make_staff: Callable[..., User]
) -> tuple[Case, User, dict[str, Any], dict[str, Any]]:
    """Two citizens' cases in the same unit, both worked; returns the first, its clerk, the
    objects of the first and those of the second."""
    mine = _submitted(certificate, "mine")
    theirs = _submitted(certificate, "theirs")
    case = mine.case
    assert case is not None and case.org_unit is not None
    clerk = make_staff(CLERK, case.org_unit, name="clara")
    admin = make_staff(CLERK, case.org_unit, name="anton")
    return case, clerk, _work(mine, clerk, admin), _work(theirs, clerk, admin)


def _keys(objects: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {
        name: (obj._meta.label, str(obj.pk)) for name, obj in objects.items() if obj is not None
    }


def _shown(response: Any) -> list[tuple[str, str, str]]:
    return [(e.action, e.object_type, e.object_id) for e in response.context["events"]]


def test_trail_shows_what_records_mailbox_payments_and_the_application_wrote(
    staff_client: StaffClient, worked: tuple[Case, User, dict[str, Any], dict[str, Any]]
) -> None:
    case, clerk, _mine, _theirs = worked
    response = staff_client(clerk).get(f"/backoffice/vorgaenge/{case.pk}/protokoll/")
    assert response.status_code == 200
    actions = {action for action, _type, _id in _shown(response)}
    expected = {
        "case.opened",
        "application.started",
        "application.submitted",
        "records.file_opened",
        "records.document_added",
        "records.version_added",
        "records.hold_placed",
        "mailbox.delivered",
        "mailbox.notified",
        "mailbox.first_retrieval",
        "payment.refunded",
        "case.document_added",
    }
    assert expected <= actions, sorted(expected - actions)
    page = response.content.decode()
    for action in expected:
        assert action in page


def test_trail_shows_nothing_of_another_citizens_case(
    staff_client: StaffClient, worked: tuple[Case, User, dict[str, Any], dict[str, Any]]
) -> None:
    case, clerk, mine, theirs = worked
    response = staff_client(clerk).get(f"/backoffice/vorgaenge/{case.pk}/protokoll/")
    shown = {(object_type, object_id) for _action, object_type, object_id in _shown(response)}
    assert set(_keys(mine).values()) <= shown
    assert not set(_keys(theirs).values()) & shown
    other = Case.objects.exclude(pk=case.pk).get()
    assert ("casework.Case", str(other.pk)) not in shown
    assert other.file is not None and ("records.File", str(other.file.pk)) not in shown
    page = response.content.decode()
    assert other.number not in page
    assert other.file.reference not in page


def test_trail_is_in_time_order(
    staff_client: StaffClient, worked: tuple[Case, User, dict[str, Any], dict[str, Any]]
) -> None:
    case, clerk, _mine, _theirs = worked
    response = staff_client(clerk).get(f"/backoffice/vorgaenge/{case.pk}/protokoll/")
    events = list(response.context["events"])
    assert [(e.at, e.pk) for e in events] == sorted((e.at, e.pk) for e in events)


def test_a_message_of_another_authority_with_the_same_case_number_is_not_shown(
    staff_client: StaffClient, worked: tuple[Case, User, dict[str, Any], dict[str, Any]]
) -> None:
    case, clerk, _mine, _theirs = worked
    elsewhere = Authority.objects.get(municipality__ags="05122000", kind="buergeramt")
    stranger = ProfileFactory(family_name="Fremd").user
    foreign = mailbox.deliver(
        owner=stranger,
        kind="information",
        subject="Solinger Vorgang",
        body="",
        case_number=case.number,
        authority=elsewhere,
    )
    response = staff_client(clerk).get(f"/backoffice/vorgaenge/{case.pk}/protokoll/")
    shown = {(object_type, object_id) for _action, object_type, object_id in _shown(response)}
    assert ("mailbox.Message", str(foreign.pk)) not in shown


def test_trail_reads_a_bounded_number_of_queries(
    staff_client: StaffClient,
    worked: tuple[Case, User, dict[str, Any], dict[str, Any]],
    django_assert_num_queries: Any,
) -> None:
    case, clerk, _mine, _theirs = worked
    client = staff_client(clerk)
    url = f"/backoffice/vorgaenge/{case.pk}/protokoll/"
    client.get(url)  # the session's staff scope is read once and cached
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    application = case.application  # type: ignore[attr-defined]
    receipt = Message.objects.get(owner=application.applicant, kind="receipt")
    for _ in range(5):  # more events of every kind: no query more
        mailbox.archive(message=receipt, user=application.applicant)
        mailbox.unarchive(message=receipt, user=application.applicant)
        casework.add_note(case=case, text="noch eine Notiz", actor=clerk)
        casework.add_internal_document(
            case=case, title="Nachtrag", file=("n.pdf", "application/pdf", PDF), actor=clerk
        )
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["events"]) > 20
    assert len(after) == len(before), [q["sql"] for q in after.captured_queries]
    assert len(after) <= 12, [q["sql"] for q in after.captured_queries]
    from rathaus.backoffice.audit_trail import case_audit_events

    with django_assert_num_queries(2):  # the ids that belong to the case, then their events
        assert len(case_audit_events(case)) == len(response.context["events"])


def test_clerk_of_another_unit_sees_no_trail(
    staff_client: StaffClient,
    make_staff: Callable[..., User],
    worked: tuple[Case, User, dict[str, Any], dict[str, Any]],
) -> None:
    case, _clerk, _mine, _theirs = worked
    assert case.org_unit is not None
    elsewhere = OrgUnit.objects.create(
        authority=case.org_unit.authority, code="99.8", name="Anderswo"
    )
    outsider = make_staff(CLERK, elsewhere, name="otto")
    response = staff_client(outsider).get(f"/backoffice/vorgaenge/{case.pk}/protokoll/")
    assert response.status_code == 404
    assert AuditEvent.objects.filter(object_type="casework.Case", object_id=str(case.pk)).exists()


def test_trail_says_what_each_event_means_in_german_and_english(
    staff_client: StaffClient, worked: tuple[Case, User, dict[str, Any], dict[str, Any]]
) -> None:
    case, clerk, _mine, _theirs = worked
    client = staff_client(clerk)
    url = f"/backoffice/vorgaenge/{case.pk}/protokoll/"
    german = client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Nachricht erstmals von der antragstellenden Person geöffnet" in german
    assert "Dokument zur E-Akte genommen" in german
    assert "Zahlung erstattet" in german
    assert "Postfachnachricht #" in german  # the kind of object, not its model's name
    assert "mailbox.first_retrieval" in german  # and the action's code beside it
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Message first opened by the citizen" in english
    assert "Payment refunded" in english
    assert "mailbox message #" in english
