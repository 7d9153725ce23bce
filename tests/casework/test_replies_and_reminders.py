"""The citizen's replies land on the case; overdue cases are reminded by e-mail."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from django.core import mail
from django.urls import resolve
from django.utils import timezone, translation

from rathaus.accounts.models import User
from rathaus.accounts.roles import TEAM_LEAD
from rathaus.casework import services
from rathaus.casework.models import Case, CaseEvent
from rathaus.core.models import AuditEvent, OrgUnit
from rathaus.mailbox import services as mailbox
from rathaus.mailbox.models import Message


def test_a_reply_in_the_mailbox_is_filed_on_the_case(
    case: Case, clerk: User, citizen: User, clamd_address: str, settings: Any
) -> None:
    settings.CLAMD_ADDRESS = clamd_address
    services.request_documents(
        case=case, description="Ihr Ausweis", due_on=timezone.localdate(), actor=clerk
    )
    request_message = Message.objects.get(owner=citizen, kind="request")
    assert request_message.case_number == case.number
    mailbox.send_reply(
        message=request_message,
        owner=citizen,
        body="Den Ausweis reiche ich nächste Woche nach.",
        attachments=[
            ("ausweis.pdf", "application/pdf", b"%PDF-1.7\n%ausweis\ntrailer<<>>\n%%EOF\n")
        ],
    )
    event = case.events.get(kind=CaseEvent.Kind.REPLY_RECEIVED)
    assert event.actor == citizen
    assert case.file is not None
    correspondence = case.file.documents.filter(kind="correspondence")
    assert correspondence.count() == 2  # the text and its attachment
    assert AuditEvent.objects.filter(action="case.reply_received").exists()


def test_a_reply_after_the_case_was_withdrawn_is_kept_and_noted_on_the_case(
    case: Case, clerk: User, citizen: User
) -> None:
    services.request_documents(
        case=case, description="Ihr Mietvertrag", due_on=timezone.localdate(), actor=clerk
    )
    request_message = Message.objects.get(owner=citizen, kind="request")
    services.withdraw_case(case=case, actor=citizen)  # the case ends, its file is closed
    assert case.file is not None
    case.file.refresh_from_db()
    assert case.file.is_closed
    filed_before = case.file.documents.count()

    answer = mailbox.send_reply(
        message=request_message, owner=citizen, body="Ich möchte doch weitermachen.", attachments=[]
    ).message

    assert Message.objects.filter(pk=answer.pk, from_citizen=True).exists()  # not lost
    assert case.file.documents.count() == filed_before  # a closed file takes nothing
    event = case.events.get(kind=CaseEvent.Kind.REPLY_RECEIVED)
    assert event.data["file_closed"] is True
    assert event.data["message"] == str(answer.public_id)
    assert "nach Schließen der Akte" in event.note
    audit = AuditEvent.objects.get(action="case.reply_received")
    assert audit.after["file_closed"] is True


def test_a_reply_to_a_message_without_a_case_changes_no_case(case: Case, citizen: User) -> None:
    message = mailbox.deliver(
        owner=citizen, kind="information", subject="Allgemeine Information", body="Hallo"
    )
    mailbox.send_reply(message=message, owner=citizen, body="Danke", attachments=[])
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.REPLY_RECEIVED).exists()


def test_overdue_cases_are_reminded_to_the_clerk_once_per_interval(
    make_case: Callable[..., Case],
    clerk: User,
    team_lead: User,
    meldewesen: OrgUnit,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    overdue = make_case()
    unassigned = make_case()
    on_time = make_case()
    services.assign(cases=[overdue], user=clerk, actor=team_lead)
    past = timezone.localdate() - datetime.timedelta(days=2)
    Case.objects.filter(pk__in=[overdue.pk, unassigned.pk]).update(due_on=past)
    Case.objects.filter(pk=on_time.pk).update(due_on=past + datetime.timedelta(days=60))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_overdue() == 2
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([clerk.email, team_lead.email])
    to_clerk = next(m for m in mail.outbox if m.to == [clerk.email])
    assert overdue.number in to_clerk.body and unassigned.number not in to_clerk.body
    assert on_time.number not in "".join(m.body for m in mail.outbox)
    assert "Erika" not in to_clerk.body  # no personal data of the citizen by e-mail
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_overdue() == 0
    assert mail.outbox == []
    later = timezone.localdate() + datetime.timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_overdue(today=later) == 2
    assert overdue.events.filter(kind=CaseEvent.Kind.REMINDER_SENT).count() == 2


def test_a_reminder_run_at_the_same_time_as_another_never_reminds_twice(
    make_case: Callable[..., Case],
    clerk: User,
    second_clerk: User,
    team_lead: User,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    first, second = make_case(), make_case()
    services.assign(cases=[first], user=clerk, actor=team_lead)
    services.assign(cases=[second], user=second_clerk, actor=team_lead)
    past = timezone.localdate() - datetime.timedelta(days=2)
    Case.objects.filter(pk__in=[first.pk, second.pk]).update(due_on=past)
    record = services._event
    concurrent_runs: list[int] = []
    started: list[bool] = []

    def event_then_another_run(case: Case, **kwargs: Any) -> CaseEvent:
        # A second worker runs the job after this run chose its cases, before it finished.
        made = record(case, **kwargs)
        if not started:
            started.append(True)
            concurrent_runs.append(services.remind_overdue())
        return made

    monkeypatch.setattr(services, "_event", event_then_another_run)
    with django_capture_on_commit_callbacks(execute=True):
        reminded = services.remind_overdue()

    assert reminded + concurrent_runs[0] == 2
    for case in (first, second):
        assert case.events.filter(kind=CaseEvent.Kind.REMINDER_SENT).count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([clerk.email, second_clerk.email])


def test_a_team_lead_without_an_e_mail_address_is_not_counted_as_reminded(
    make_case: Callable[..., Case],
    make_staff: Callable[..., User],
    meldewesen: OrgUnit,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    make_staff(meldewesen, role=TEAM_LEAD, email="")
    unassigned = make_case()
    Case.objects.filter(pk=unassigned.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_overdue() == 0
    assert mail.outbox == []
    unassigned.refresh_from_db()
    assert unassigned.reminded_on is None  # reminded as soon as someone can be told
    assert not unassigned.events.filter(kind=CaseEvent.Kind.REMINDER_SENT).exists()


def test_a_case_whose_assignee_left_the_unit_is_reminded_to_its_team_leads(
    make_case: Callable[..., Case],
    clerk: User,
    team_lead: User,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    """The former member could not open the case from the reminder's link (404)."""
    from rathaus.casework.models import StaffMembership

    overdue = make_case()
    services.assign(cases=[overdue], user=clerk, actor=team_lead)
    StaffMembership.objects.filter(user=clerk).delete()
    Case.objects.filter(pk=overdue.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_overdue() == 1
    assert [m.to for m in mail.outbox] == [[team_lead.email]]


def test_an_unrouted_overdue_case_is_reminded_to_the_authoritys_team_leads(
    make_case: Callable[..., Case],
    team_lead: User,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    """Team leads see the cases routed to no unit; nobody else would be told."""
    unrouted = make_case()
    Case.objects.filter(pk=unrouted.pk).update(
        org_unit=None, due_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_overdue() == 1
    assert [m.to for m in mail.outbox] == [[team_lead.email]]
    assert unrouted.number in mail.outbox[0].body


def test_the_reminder_links_to_the_case_page_of_the_back_office(
    make_case: Callable[..., Case],
    clerk: User,
    settings: Any,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    settings.SITE_URL = "https://rathaus.example.org"
    overdue = make_case()
    services.assign(cases=[overdue], user=clerk, actor=clerk)
    Case.objects.filter(pk=overdue.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_overdue() == 1
    links = re.findall(r"https://rathaus\.example\.org(/\S+)", mail.outbox[0].body)
    assert links == [f"/backoffice/vorgaenge/{overdue.pk}/"]
    match = resolve(links[0])
    assert match.view_name == "backoffice:case" and match.kwargs == {"pk": overdue.pk}


def test_the_reminder_job_is_scheduled() -> None:
    from django.conf import settings

    assert any(
        path == "rathaus.casework.tasks.remind_overdue_job" for path, _ in settings.PERIODIC_JOBS
    )


def test_a_reply_is_filed_under_german_titles_whatever_the_ui_language(
    case: Case, clerk: User, citizen: User, clamd_address: str, settings: Any
) -> None:
    settings.CLAMD_ADDRESS = clamd_address
    services.request_documents(
        case=case, description="Ihr Ausweis", due_on=timezone.localdate(), actor=clerk
    )
    request_message = Message.objects.get(owner=citizen, kind="request")
    with translation.override("en"):
        mailbox.send_reply(
            message=request_message,
            owner=citizen,
            body="Anbei mein Ausweis.",
            attachments=[
                ("ausweis.pdf", "application/pdf", b"%PDF-1.7\n%ausweis\ntrailer<<>>\n%%EOF\n")
            ],
        )
    assert case.file is not None
    titles = sorted(
        case.file.documents.filter(kind="correspondence").values_list("title", flat=True)
    )
    assert titles[0] == "Anlage zur Antwort: ausweis.pdf"
    assert titles[1].startswith("Antwort der antragstellenden Person: ")
