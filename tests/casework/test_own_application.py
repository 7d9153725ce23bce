"""§ 20 Abs. 1 Nr. 1 VwVfG: who applied may not act for the authority in their own procedure.

A clerk or team lead who is the applicant of a case may read it as their role allows, but
neither works on it, nor decides it, nor is given it, nor assigns it. The services refuse it
whoever calls them; the permissions hide the buttons.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.accounts.roles import CLERK, TEAM_LEAD
from rathaus.casework import permissions, services
from rathaus.casework.errors import CaseworkError
from rathaus.casework.models import Case, Notice, PostalDeliveryTask
from rathaus.core.models import OrgUnit

pytestmark = pytest.mark.django_db

MakeCase = Callable[..., Case]
MakeStaff = Callable[..., User]


@pytest.fixture
def applying_clerk(make_staff: MakeStaff, meldewesen: OrgUnit) -> User:
    return make_staff(meldewesen, role=CLERK, email="antragstellerin@stadt.example.org")


@pytest.fixture
def own_case(make_case: MakeCase, applying_clerk: User) -> Case:
    return make_case(applicant=applying_clerk, actor=applying_clerk)


def test_the_applicant_reads_but_does_not_work_on_their_case(
    own_case: Case, applying_clerk: User, clerk: User
) -> None:
    assert permissions.is_party(applying_clerk, own_case)
    assert permissions.can_view_case(applying_clerk, own_case)
    assert not permissions.can_decide(applying_clerk, own_case)
    assert not permissions.is_assignable_to(applying_clerk, own_case)
    assert not applying_clerk.has_perm("casework.case_decide", own_case)
    # a colleague works on it as on any other case
    assert permissions.can_decide(clerk, own_case)
    assert permissions.is_assignable_to(clerk, own_case)
    assert not permissions.is_party(clerk, own_case)


def test_a_team_lead_who_applied_neither_assigns_nor_approves_their_case(
    make_staff: MakeStaff, make_case: MakeCase, meldewesen: OrgUnit, clerk: User
) -> None:
    lead = make_staff(meldewesen, role=TEAM_LEAD)
    case = make_case(applicant=lead, actor=lead)
    assert permissions.can_view_case(lead, case)
    assert not permissions.can_assign(lead, case)
    assert not lead.has_perm("casework.case_assign", case)
    notice = services.draft_notice(case=case, template_key="refused", actor=clerk)
    assert not permissions.can_approve_notice(lead, notice)
    with pytest.raises(CaseworkError, match="§ 20"):
        services.assign(cases=[case], user=clerk, actor=lead)
    case.refresh_from_db()
    assert case.assigned_to is None


def test_the_applicant_is_refused_at_drafting(own_case: Case, applying_clerk: User) -> None:
    from rathaus.casework.errors import PartyToCaseError

    with pytest.raises(PartyToCaseError, match="selbst beantragt"):
        services.draft_notice(case=own_case, template_key="granted", actor=applying_clerk)
    assert not own_case.notices.exists()
    own_case.refresh_from_db()
    assert own_case.status == Case.Status.RECEIVED


def test_the_applicant_neither_edits_approves_returns_nor_issues_a_colleagues_notice(
    own_case: Case, applying_clerk: User, clerk: User
) -> None:
    notice = services.draft_notice(case=own_case, template_key="granted", actor=clerk)
    with pytest.raises(CaseworkError, match="§ 20"):
        services.update_notice(notice=notice, actor=applying_clerk, body="Genehmigt.")
    with pytest.raises(CaseworkError, match="§ 20"):
        services.issue_notice(notice=notice, actor=applying_clerk)
    refusal_case = own_case  # the four-eyes steps on a refusal of the same case
    notice.status = Notice.Status.DISCARDED
    notice.save(update_fields=["status"])
    refusal = services.draft_notice(case=refusal_case, template_key="refused", actor=clerk)
    start = refusal.body.index("[Bitte")
    refusal = services.update_notice(
        notice=refusal,
        actor=clerk,
        body=refusal.body[:start] + "Fehlt." + refusal.body[refusal.body.index("]", start) + 1 :],
    )
    refusal = services.submit_for_approval(notice=refusal, actor=clerk)
    with pytest.raises(CaseworkError, match="§ 20"):
        services.approve_notice(notice=refusal, actor=applying_clerk)
    with pytest.raises(CaseworkError, match="§ 20"):
        services.return_notice(notice=refusal, actor=applying_clerk)
    refusal.refresh_from_db()
    assert refusal.status == Notice.Status.AWAITING_APPROVAL and refusal.approved_by is None


def test_the_applicant_does_not_otherwise_work_on_their_case(
    own_case: Case, applying_clerk: User, clerk: User
) -> None:
    due = timezone.localdate() + datetime.timedelta(days=14)
    refused = [
        lambda: services.transition(
            case=own_case, to_status=Case.Status.IN_REVIEW, actor=applying_clerk
        ),
        lambda: services.set_due_date(case=own_case, due_on=due, actor=applying_clerk),
        lambda: services.add_note(case=own_case, text="Passt.", actor=applying_clerk),
        lambda: services.request_documents(
            case=own_case, description="Nichts", due_on=due, actor=applying_clerk
        ),
        lambda: services.assign(cases=[own_case], user=clerk, actor=applying_clerk),
    ]
    for call in refused:
        with pytest.raises(CaseworkError, match="§ 20"):
            call()
    own_case.refresh_from_db()
    assert own_case.status == Case.Status.RECEIVED and own_case.assigned_to is None
    assert not own_case.notes.exists() and not own_case.document_requests.exists()


def test_the_applicant_is_not_given_their_case_also_in_a_bulk_assignment(
    own_case: Case, make_case: MakeCase, applying_clerk: User, team_lead: User
) -> None:
    other = make_case()
    with pytest.raises(CaseworkError, match=f"{own_case.number}.*§ 20"):
        services.assign(cases=[other, own_case], user=applying_clerk, actor=team_lead)
    with pytest.raises(CaseworkError, match="§ 20"):
        services.assign(cases=[own_case], user=applying_clerk, actor=applying_clerk)  # take over
    assert not Case.objects.filter(assigned_to=applying_clerk).exists()  # all or none


def test_the_applicant_does_not_post_their_own_notice(
    make_case: MakeCase, applying_clerk: User, clerk: User
) -> None:
    case = make_case(applicant=applying_clerk, actor=applying_clerk, electronic_delivery=False)
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    services.issue_notice(notice=notice, actor=clerk)
    task = case.postal_tasks.get()
    with pytest.raises(CaseworkError, match="§ 20"):
        services.mark_posted(task=task, actor=applying_clerk)
    task.refresh_from_db()
    assert task.status == PostalDeliveryTask.Status.OPEN


def test_an_overdue_case_given_to_its_applicant_is_reminded_to_the_team_lead(
    own_case: Case,
    applying_clerk: User,
    team_lead: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    # given to them before the rule (the service refuses it now)
    Case.objects.filter(pk=own_case.pk).update(
        assigned_to=applying_clerk, due_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_overdue() == 1
    recipients = [address for message in mail.outbox for address in message.to]
    assert recipients == [team_lead.email]
