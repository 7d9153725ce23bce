"""Writing cases: open, move through the workflow, request documents, decide with a notice.

Every change runs in one transaction that locks the case row (``select_for_update``), checks the
status it found there, appends a :class:`CaseEvent` and writes the audit trail. Two clerks acting
on one case at once are thus serialised: the second sees the first one's result and gets a
:class:`TransitionError` with a message instead of overwriting it.
Views check the permissions (``casework.permissions``); these functions check the workflow, and
refuse what must never happen whoever calls them: the applicant acting on their own case
(§ 20 Abs. 1 Nr. 1 VwVfG), and an action on a notice or assignment that changed after the
clerk's page was read (``version``, ``seen``: :class:`ChangedMeanwhileError`).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from rathaus.casework import notice_templates
from rathaus.casework.errors import (
    CaseworkError,
    ChangedMeanwhileError,
    DueDateError,
    FieldError,
    NoticeTemplateError,
    PartyToCaseError,
    TransitionError,
)
from rathaus.casework.models import (
    Case,
    CaseEvent,
    CaseNote,
    DocumentRequest,
    Notice,
    PostalDeliveryTask,
    ServiceRouting,
    StaffMembership,
    snapshot,
)
from rathaus.casework.permissions import (
    can_decide,
    forget_scope,
    is_assignable_to,
    is_party,
    staff_scope,
    wrote_notice,
)
from rathaus.catalog.models import Service
from rathaus.core import audit
from rathaus.core.models import Authority, Municipality, OrgUnit
from rathaus.core.sequences import next_value
from rathaus.documents.seal import SealError, TimestampUnavailable
from rathaus.ledger.services import LedgerError
from rathaus.mailbox import services as mailbox
from rathaus.mailbox.models import Message
from rathaus.records import services as records
from rathaus.records.errors import RecordsError

logger = logging.getLogger(__name__)

S = Case.Status

#: The workflow: which status may follow which. Decisions happen only by issuing a notice,
#: a request for documents only with a request; the rest goes through :func:`transition`.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.IN_REVIEW, S.WAITING_FOR_CITIZEN, S.WITHDRAWN}),
    S.IN_REVIEW: frozenset({S.WAITING_FOR_CITIZEN, S.DECIDED, S.WITHDRAWN}),
    S.WAITING_FOR_CITIZEN: frozenset({S.IN_REVIEW, S.WITHDRAWN}),
    S.DECIDED: frozenset({S.CLOSED, S.IN_REVIEW}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
#: Targets that need their own service function (and what it does on the way).
_SPECIAL_TARGETS = {
    S.DECIDED: "issue_notice",
    S.WAITING_FOR_CITIZEN: "request_documents",
}

#: File (name, content type, bytes) as handed in by the portal or the mailbox.
FileData = tuple[str, str, bytes]


def _status_label(status: str) -> str:
    return str(S(status).label)


def _actor_label(actor: Any) -> str:
    return str(actor) if actor is not None else "system"


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _event(
    case: Case,
    *,
    kind: str,
    actor: Any,
    note: str = "",
    citizen_visible: bool = False,
    from_status: str = "",
    to_status: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=_user(actor),
        actor_label=_actor_label(actor),
        note=note,
        citizen_visible=citizen_visible,
        from_status=from_status,
        to_status=to_status,
        data=data or {},
    )


def _notice_event(
    case: Case,
    notice: Notice,
    *,
    kind: str,
    actor: Any,
    note: str = "",
    citizen_visible: bool = False,
    **data: Any,
) -> CaseEvent:
    """A step of ``notice`` in the case's history; its data names the notice."""
    return _event(
        case,
        kind=kind,
        actor=actor,
        note=note,
        citizen_visible=citizen_visible,
        data={"notice": str(notice.public_id), **data},
    )


def _to_applicant(
    case: Case, *, kind: str, subject: str, body: str, actor: Any, **options: Any
) -> Message:
    """A message to the case's applicant in their Postfach, linked to the case and authority."""
    return mailbox.deliver(
        owner=case.applicant,
        kind=kind,
        subject=subject,
        body=body,
        case_number=case.number,
        authority=case.authority,
        actor=actor,
        language="de",  # the callers write subject and body under override("de")
        **options,
    )


def _audit(case: Case, *, action: str, actor: Any, before: Any = None, after: Any = None) -> None:
    audit.record(
        actor=actor,
        action=action,
        obj=case,
        before=before,
        after=after,
        municipality=case.authority.municipality,
    )


def _lock(case: Case) -> Case:
    """The case row, locked until the transaction ends, with its current values."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("authority__municipality", "service", "file")
        .get(pk=case.pk)
    )


def _not_a_party(case: Case, actor: Any) -> None:
    """Refuse a staff action of the case's applicant: § 20 Abs. 1 Nr. 1 VwVfG, a party may not
    act for the authority in its own procedure. The citizen's own steps (answering a request,
    replying, withdrawing) do not pass here."""
    user = _user(actor)
    if user is not None and is_party(user, case):
        raise PartyToCaseError(
            _(
                "You applied for case %(number)s yourself, so you may not work on it for the "
                "authority (§ 20 Abs. 1 Nr. 1 VwVfG). Your team lead assigns it to a colleague."
            )
            % {"number": case.number}
        )


def _refuse_transition(case: Case, to_status: str) -> TransitionError:
    if case.status in (S.CLOSED, S.WITHDRAWN):
        return TransitionError(
            _("Case %(number)s is %(status)s; it can no longer change.")
            % {"number": case.number, "status": _status_label(case.status)}
        )
    return TransitionError(
        _("Case %(number)s cannot go from “%(from)s” to “%(to)s”.")
        % {
            "number": case.number,
            "from": _status_label(case.status),
            "to": _status_label(to_status),
        }
    )


def _move(
    case: Case,
    *,
    to_status: str,
    actor: Any,
    note: str = "",
    data: dict[str, Any] | None = None,
    outcome: str = "",
) -> None:
    """Change the locked ``case``'s status (checked against :data:`TRANSITIONS`), with history.

    ``outcome`` is the decision's, set with the move to decided: the audit trail's ``before``
    is the case as it was, undecided.
    """
    if to_status not in TRANSITIONS.get(case.status, frozenset()):
        raise _refuse_transition(case, to_status)
    before = snapshot(case)
    from_status = case.status
    case.status = to_status
    now = timezone.now()
    if to_status == S.DECIDED:
        case.decided_at = now
        case.outcome = outcome
    if to_status in (S.CLOSED, S.WITHDRAWN):
        case.closed_at = now
    if to_status == S.IN_REVIEW and from_status == S.DECIDED:
        case.outcome = ""
    case.save()
    _event(
        case,
        kind=CaseEvent.Kind.STATUS_CHANGED,
        actor=actor,
        note=note,
        citizen_visible=True,
        from_status=from_status,
        to_status=to_status,
        data=data,
    )
    _audit(case, action="case.status_changed", actor=actor, before=before, after=snapshot(case))


# --- opening ----------------------------------------------------------------------------------


def _person_name(value: Any) -> str:
    """``given_names family_name`` of a person-name answer; empty for anything else."""
    if isinstance(value, dict) and value.get("family_name"):
        return f"{value.get('given_names', '')} {value['family_name']}".strip()[:200]
    return ""


def _applicant_name(applicant: Any, particulars: dict[str, Any], *, subject_field: str) -> str:
    """The name of the person the case is about: the answer ``subject_field`` (the service's
    ``casework.toml``), else the first person's name among the answers, else the applicant's
    profile or e-mail address. Not simply the first name in the answers: a form may ask for the
    authorised person before the voter (Briefwahl, § 27 Abs. 3 BWahlO)."""
    named = _person_name(particulars.get(subject_field))
    if named:
        return named
    for value in particulars.values():
        if _person_name(value):
            return _person_name(value)
    profile = getattr(applicant, "profile", None) if applicant is not None else None
    if profile is not None and (profile.given_names or profile.family_name):
        return f"{profile.given_names} {profile.family_name}".strip()[:200]
    return str(getattr(applicant, "email", "") or "")[:200]


def route(*, service: Service, authority: Authority) -> OrgUnit | None:
    """The org unit of ``authority`` that handles ``service``.

    In this order: the routing the authority's administrators configured; the unit whose code
    the service's ``casework.toml`` names; the authority's only unit. Otherwise none (a team
    lead assigns the case).
    """
    configured = (
        ServiceRouting.objects.select_related("org_unit")
        .filter(service=service, authority=authority)
        .first()
    )
    if configured is not None and configured.org_unit.authority_id == authority.pk:
        return configured.org_unit
    if configured is not None:  # saved before the admin checked it: ignored, not fatal
        logger.warning(
            "routing to another authority's org unit ignored",
            extra={"routing": configured.pk, "authority": authority.pk},
        )
    units = list(OrgUnit.objects.filter(authority=authority))
    code = notice_templates.workflow_for(service.slug).unit_code
    for unit in units:
        if code and unit.code == code:
            return unit
    return units[0] if len(units) == 1 else None


def next_case_number(*, authority: Authority, year: int) -> str:
    """``2026-000042``: unique per authority and year, never reused (a dedicated sequence)."""
    return f"{year}-{next_value(f'case-number-{authority.pk}-{year}'):06d}"


def open_case(
    *,
    service: Service,
    authority: Authority,
    org_unit: OrgUnit | None = None,
    applicant: Any,
    title: str,
    actor: Any,
    opened_at: datetime.datetime | None = None,
    particulars: dict[str, Any] | None = None,
    electronic_delivery: bool = True,
) -> Case:
    """Open the case for a submitted application, with its file in the E-Akte.

    Runs inside the caller's transaction (the submission): the case and its file exist if and
    only if the submission does. Raises :class:`CaseworkError` when the authority cannot keep a
    file for the service (no file plan entry).
    """
    opened_at = opened_at or timezone.now()
    particulars = dict(particulars or {})
    workflow = notice_templates.workflow_for(service.slug)
    if org_unit is not None and org_unit.authority_id != authority.pk:
        raise CaseworkError(_("The org unit does not belong to the responsible authority."))
    unit = org_unit or route(service=service, authority=authority)
    plan_key = getattr(service, "file_plan_key", "") or ""
    try:  # checked before anything is written: a refusal leaves the caller's transaction usable
        entry = records.entry_for_new_file(authority=authority, plan_key=plan_key, org_unit=unit)
    except RecordsError as exc:
        raise CaseworkError(str(exc)) from exc
    applicant_name = _applicant_name(applicant, particulars, subject_field=workflow.subject_field)
    # No savepoint of its own: it runs inside the submission, whose statements it saves.
    with transaction.atomic(savepoint=False):
        year = timezone.localdate(opened_at).year
        # The file first, so that the case is inserted with it (no UPDATE afterwards).
        try:
            file = records.open_file(
                authority=authority,
                plan_key=plan_key,
                org_unit=unit,
                title=f"{service.name_de}: {applicant_name}"[:300],
                actor=actor,
                opened_at=opened_at,
                entry=entry,
            )
        except RecordsError as exc:
            raise CaseworkError(str(exc)) from exc
        case = Case.objects.create(
            file=file,
            authority=authority,
            org_unit=unit,
            service=service,
            applicant=applicant,
            applicant_name=applicant_name,
            title=title[:300],
            number=next_case_number(authority=authority, year=year),
            status=S.RECEIVED,
            due_on=timezone.localdate(opened_at)
            + datetime.timedelta(days=workflow.processing_days),
            opened_at=opened_at,
            particulars=particulars,
            electronic_delivery=electronic_delivery,
        )
        _event(
            case,
            kind=CaseEvent.Kind.OPENED,
            actor=actor,
            citizen_visible=True,
            to_status=S.RECEIVED,
        )
        _audit(
            case,
            action="case.opened",
            actor=actor,
            after={
                **snapshot(case),
                "number": case.number,
                "service": service.slug,
                "file": case.file.reference if case.file else None,
            },
        )
    return case


# --- workflow ---------------------------------------------------------------------------------


def transition(
    *, case: Case, to_status: str, actor: Any, note: str = "", seen_status: str | None = None
) -> Case:
    """Move ``case`` to ``to_status``; raises :class:`TransitionError` when it is not allowed.

    Deciding needs a notice (:func:`issue_notice`), waiting for the citizen a request
    (:func:`request_documents`). Going back from waiting to review cancels the open request
    (the back office does that with :func:`resume_review`, naming the request); closing a
    decided case closes its file. ``seen_status`` is the status the actor's page showed: a case
    in another status by now is not moved (:class:`ChangedMeanwhileError`), so that an old
    "start the review" button cannot withdraw the request a colleague sent meanwhile.
    """
    if to_status not in S.values:
        raise TransitionError(_("Unknown status."))
    if to_status == S.DECIDED:
        raise TransitionError(_("A case is decided by issuing a notice."))
    if to_status == S.WAITING_FOR_CITIZEN:
        raise TransitionError(_("To wait for the citizen, request the documents needed."))
    if to_status == S.WITHDRAWN:
        return withdraw_case(case=case, actor=actor, note=note)
    with transaction.atomic():
        locked = _lock(case)
        _not_a_party(locked, actor)
        if seen_status is not None and locked.status != seen_status:
            raise _status_changed_meanwhile(locked, seen_status=seen_status)
        if to_status == S.IN_REVIEW and locked.status == S.DECIDED:
            raise TransitionError(
                _("A decided case goes back to review only by revoking its notice.")
            )
        if to_status == S.IN_REVIEW and locked.status == S.WAITING_FOR_CITIZEN:
            _cancel_open_requests(locked, actor=actor)
        unposted = set(
            locked.postal_tasks.filter(status=PostalDeliveryTask.Status.OPEN).values_list(
                "kind", flat=True
            )
        )
        if (
            to_status == S.CLOSED
            and locked.notices.filter(
                status=Notice.Status.ISSUED, revocation_requested_at__isnull=False
            ).exists()
        ):
            raise TransitionError(
                _(
                    "Case %(number)s cannot be closed while the revocation of its notice awaits "
                    "a second clerk's confirmation."
                )
                % {"number": locked.number}
            )
        if to_status == S.CLOSED and PostalDeliveryTask.Kind.NOTICE in unposted:
            # The notice has not gone out yet: closing would end the case before it is announced.
            raise TransitionError(
                _("Case %(number)s cannot be closed before its notice has been sent by post.")
                % {"number": locked.number}
            )
        if to_status == S.CLOSED and unposted:
            raise TransitionError(
                _(
                    "Case %(number)s cannot be closed before the letter revoking its earlier "
                    "notice has been sent by post."
                )
                % {"number": locked.number}
            )
        _move(locked, to_status=to_status, actor=actor, note=note)
        if to_status == S.CLOSED:
            _close_file(locked, actor=actor)
    return locked


def _status_changed_meanwhile(case: Case, *, seen_status: str) -> ChangedMeanwhileError:
    """The refusal of an action taken on a page that showed ``case`` in ``seen_status``."""
    if case.status == S.WAITING_FOR_CITIZEN:
        return ChangedMeanwhileError(
            _(
                "Case %(number)s is now waiting for documents from the citizen: they were "
                "requested after you opened the page. Nothing was changed and the request stays "
                "open. To review the case without the documents, withdraw the request "
                "(“Resume the review”)."
            )
            % {"number": case.number}
        )
    return ChangedMeanwhileError(
        _(
            "Case %(number)s is now “%(status)s”, no longer “%(seen)s” as on your page. Nothing "
            "was changed: check its current state first."
        )
        % {
            "number": case.number,
            "status": _status_label(case.status),
            "seen": _status_label(seen_status),
        }
    )


def resume_review(
    *, case: Case, request: DocumentRequest, actor: Any, note: str = ""
) -> DocumentRequest:
    """Take the case that waits for the citizen back into review without the documents:
    ``request`` (the one the clerk's page showed) is withdrawn, the citizen's timeline says so.

    Refused (:class:`ChangedMeanwhileError`) when ``request`` is no longer open, answered by
    the citizen or withdrawn since the page was read, and when it is not the case's.
    """
    with transaction.atomic():
        locked = _lock(case)
        _not_a_party(locked, actor)
        if request.case_id != locked.pk:
            raise CaseworkError(_("This request for documents does not belong to the case."))
        pending = DocumentRequest.objects.select_for_update().get(pk=request.pk)
        if pending.status != DocumentRequest.Status.OPEN:
            raise ChangedMeanwhileError(
                _(
                    "The request for documents of case %(number)s has been %(status)s since "
                    "you opened the page; nothing was withdrawn. The case is now “%(case)s”."
                )
                % {
                    "number": locked.number,
                    "status": pending.get_status_display(),
                    "case": _status_label(locked.status),
                }
            )
        if locked.status != S.WAITING_FOR_CITIZEN:
            raise _refuse_transition(locked, S.IN_REVIEW)
        _cancel_request(locked, pending, actor=actor)
        _move(locked, to_status=S.IN_REVIEW, actor=actor, note=note)
    return pending


def _close_file(case: Case, *, actor: Any) -> None:
    if case.file is not None and not case.file.is_closed:
        records.close_file(file=case.file, actor=actor, closed_on=timezone.localdate())


def _cancel_open_requests(case: Case, *, actor: Any) -> None:
    for request in DocumentRequest.objects.select_for_update().filter(
        case=case, status=DocumentRequest.Status.OPEN
    ):
        _cancel_request(case, request, actor=actor)


def _cancel_request(case: Case, request: DocumentRequest, *, actor: Any) -> None:
    """Withdraw the open (locked) ``request``: the citizen's timeline shows it withdrawn."""
    request.status = DocumentRequest.Status.CANCELLED
    request.save(update_fields=["status"])
    _event(
        case,
        kind=CaseEvent.Kind.REQUEST_CANCELLED,
        actor=actor,
        citizen_visible=True,
        data={"request": str(request.public_id)},
    )
    _audit(
        case,
        action="case.request_cancelled",
        actor=actor,
        before={"request": request.pk, "status": DocumentRequest.Status.OPEN},
        after={"request": request.pk, "status": request.status},
    )


def _discard_drafts(case: Case, *, actor: Any, keep: Notice | None = None) -> None:
    """Discard the case's unfinished notices (but ``keep``): the case was withdrawn, or ``keep``
    has been issued instead. Each one is an internal entry of the history."""
    pending = Notice.objects.select_for_update().filter(
        case=case, status__in=(Notice.Status.DRAFT, Notice.Status.AWAITING_APPROVAL)
    )
    if keep is not None:
        pending = pending.exclude(pk=keep.pk)
    for notice in pending:
        before = notice.status
        notice.status = Notice.Status.DISCARDED
        notice.version += 1
        notice.save(update_fields=["status", "version"])
        superseded: dict[str, Any] = {"superseded_by": str(keep.public_id)} if keep else {}
        _notice_event(
            case,
            notice,
            kind=CaseEvent.Kind.NOTICE_DISCARDED,
            actor=actor,
            note=notice.title,
            status=before,
            **superseded,
        )
        _audit(
            case,
            action="case.notice_discarded",
            actor=actor,
            before={"notice": notice.pk, "status": before},
            after={"notice": notice.pk, "status": notice.status},
        )


def withdraw_case(*, case: Case, actor: Any, note: str = "") -> Case:
    """The citizen withdraws the application: the open case ends, its file is closed."""
    with transaction.atomic():
        locked = _lock(case)
        if locked.status not in Case.OPEN_STATUSES:
            raise _refuse_transition(locked, S.WITHDRAWN)
        _cancel_open_requests(locked, actor=actor)
        _discard_drafts(locked, actor=actor)
        _move(locked, to_status=S.WITHDRAWN, actor=actor, note=note)
        _close_file(locked, actor=actor)
    return locked


#: The most cases one assignment changes (the queue shows 25 a page). More are refused before
#: anything is locked: one request does not hold hundreds of row locks in one transaction.
MAX_CASES_PER_ASSIGNMENT = 100


@dataclass(frozen=True)
class Assignment:
    """Who had a case and in which org unit (ids; None for nobody or no unit)."""

    assigned_to_id: int | None
    org_unit_id: int | None

    @classmethod
    def of(cls, case: Case) -> Assignment:
        return cls(assigned_to_id=case.assigned_to_id, org_unit_id=case.org_unit_id)


def _assignment_label(case: Case) -> str:
    who = str(case.assigned_to) if case.assigned_to is not None else _("nobody")
    unit = str(case.org_unit) if case.org_unit is not None else _("no org unit")
    return f"{who}, {unit}"


def _lock_for_assignment(cases: Iterable[Case]) -> list[Case]:
    """The rows of ``cases``, locked in the order of their ids, with their current values and
    assignment. One fixed order: two assignments over overlapping cases wait for each other
    instead of deadlocking (PostgreSQL locks the rows in the order the query returns them)."""
    ids = sorted({case.pk for case in cases})
    locked = list(
        Case.objects.select_for_update(of=("self",))
        .select_related("authority__municipality", "service", "file", "assigned_to", "org_unit")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if len(locked) != len(ids):
        raise CaseworkError(_("One of the selected cases no longer exists."))
    return locked


def _assigned_meanwhile(stale: list[Case], *, selected: int) -> ChangedMeanwhileError:
    """The refusal naming each case assigned anew since the page was read, as it is now."""
    if selected == 1:
        (case,) = stale
        return ChangedMeanwhileError(
            _(
                "Case %(number)s was assigned anew after you opened the page (now: "
                "%(current)s). Your assignment was not saved: check the current one and "
                "assign again if it should still change."
            )
            % {"number": case.number, "current": _assignment_label(case)}
        )
    named = "; ".join(
        _("%(number)s (now: %(current)s)")
        % {"number": case.number, "current": _assignment_label(case)}
        for case in stale
    )
    return ChangedMeanwhileError(
        _(
            "Assigned anew after you opened the page: %(cases)s. None of the selected cases "
            "has been assigned: check the current assignments and assign again if they should "
            "still change."
        )
        % {"cases": named}
    )


def assign(
    *,
    cases: Iterable[Case],
    user: Any = None,
    org_unit: OrgUnit | None = None,
    unassign: bool = False,
    actor: Any,
    seen: Mapping[int, Assignment] | None = None,
) -> list[Case]:
    """Give cases to a clerk and/or an org unit (bulk). All or none are changed.

    ``user=None`` keeps each case's clerk; ``unassign=True`` removes it instead (a team lead
    moving cases to another unit with "nobody" as the clerk). ``seen`` is the assignment each
    case (by id) had on the page the actor read: when any case was assigned differently since,
    none is changed and :class:`ChangedMeanwhileError` names every such case with its current
    assignment, so that an old form cannot undo a colleague's assignment. Nobody is given a
    case they applied for (§ 20 Abs. 1 Nr. 1 VwVfG), and the applicant does not assign it
    either. At most :data:`MAX_CASES_PER_ASSIGNMENT` cases at once; each case counts once."""
    if unassign and user is not None:
        raise CaseworkError(_("Choose a clerk or nobody, not both."))
    if user is None and org_unit is None and not unassign:
        raise CaseworkError(_("Choose a clerk or an org unit."))
    cases = list(cases)
    if len({case.pk for case in cases}) > MAX_CASES_PER_ASSIGNMENT:
        raise CaseworkError(
            _("At most %(limit)d cases can be assigned at once.")
            % {"limit": MAX_CASES_PER_ASSIGNMENT}
        )
    changed = []
    with transaction.atomic():
        locked_cases = _lock_for_assignment(cases)
        for locked in locked_cases:
            _not_a_party(locked, actor)
            if locked.status not in Case.OPEN_STATUSES:
                raise TransitionError(
                    _("Case %(number)s is %(status)s and can no longer be assigned.")
                    % {"number": locked.number, "status": _status_label(locked.status)}
                )
        stale = [
            locked
            for locked in locked_cases
            if (seen or {}).get(locked.pk, Assignment.of(locked)) != Assignment.of(locked)
        ]
        if stale:
            raise _assigned_meanwhile(stale, selected=len(locked_cases))
        for locked in locked_cases:
            if org_unit is not None and org_unit.authority_id != locked.authority_id:
                raise CaseworkError(
                    _("%(unit)s does not belong to the authority of case %(number)s.")
                    % {"unit": org_unit, "number": locked.number}
                )
            if user is not None and is_party(user, locked):
                raise PartyToCaseError(
                    _(
                        "%(user)s applied for case %(number)s and may not work on it "
                        "(§ 20 Abs. 1 Nr. 1 VwVfG); assign it to someone else."
                    )
                    % {"user": user, "number": locked.number}
                )
            if user is not None and not is_assignable_to(user, locked):
                raise CaseworkError(
                    _("%(user)s does not work on cases of the authority of case %(number)s.")
                    % {"user": user, "number": locked.number}
                )
            before = snapshot(locked)
            if org_unit is not None:
                locked.org_unit = org_unit
            if user is not None:
                locked.assigned_to = user
            elif unassign:
                locked.assigned_to = None
            locked.save(update_fields=["org_unit", "assigned_to", "updated_at"])
            note = ""
            if unassign and before["assigned_to"] is not None:
                with override(settings.LANGUAGE_CODE):
                    note = _("The clerk has been removed from the case.")
            _event(
                locked,
                kind=CaseEvent.Kind.ASSIGNED,
                actor=actor,
                note=note,
                data={
                    "user": user.pk if user else None,
                    "org_unit": org_unit.pk if org_unit else None,
                    "unassigned": before["assigned_to"] if unassign else None,
                },
            )
            _audit(
                locked, action="case.assigned", actor=actor, before=before, after=snapshot(locked)
            )
            changed.append(locked)
    if user is not None:
        forget_scope(user)  # their scope may now reach beyond their units (assigned_outside_units)
    return changed


def end_membership(*, user_id: int, org_unit_id: int, actor: Any = None) -> list[Case]:
    """The staff user ``user_id`` no longer works in the org unit ``org_unit_id`` (their
    membership was deleted or moved to another unit): the open cases assigned to them that
    rested on it are unassigned, so that their team lead finds them under "nobody" in the queue
    instead of the clerk still seeing and deciding them.

    Rested on it: the cases of that unit, and, when the user keeps no membership in another
    unit of the unit's authority, that authority's cases a team lead gave them across units.
    A case of another unit given to them while they keep a membership of its authority stays
    theirs. Each case gets an assignment entry in its history naming why, and an audit event
    (``case.assignee_left_unit``) with ``actor`` (the person who removed the membership; None
    when unknown). Runs in the caller's transaction when there is one (the deletion's)."""
    unit = OrgUnit.objects.filter(pk=org_unit_id).first()
    rested = Q(org_unit_id=org_unit_id)
    if (
        unit is not None
        and not StaffMembership.objects.filter(
            user_id=user_id, org_unit__authority_id=unit.authority_id
        ).exists()
    ):
        rested |= Q(authority_id=unit.authority_id)
    with transaction.atomic():
        cases = list(
            Case.objects.select_for_update(of=("self",))
            .select_related("authority__municipality", "assigned_to", "org_unit")
            .filter(rested, assigned_to_id=user_id, status__in=Case.OPEN_STATUSES)
            .order_by("pk")  # one fixed order, as in :func:`assign`
        )
        for locked in cases:
            before = snapshot(locked)
            clerk = str(locked.assigned_to)
            locked.assigned_to = None
            locked.save(update_fields=["assigned_to", "updated_at"])
            with override(settings.LANGUAGE_CODE):  # the history is kept in German
                note = _(
                    "%(clerk)s no longer works in %(unit)s; the case is no longer assigned to "
                    "them. Assign it again."
                ) % {"clerk": clerk, "unit": str(unit) if unit is not None else org_unit_id}
            _event(
                locked,
                kind=CaseEvent.Kind.ASSIGNED,
                actor=actor,
                note=note,
                data={
                    "user": None,
                    "org_unit": None,
                    "unassigned": user_id,
                    "membership_ended": org_unit_id,
                },
            )
            _audit(
                locked,
                action="case.assignee_left_unit",
                actor=actor,
                before=before,
                after={**snapshot(locked), "membership_ended": org_unit_id},
            )
    return cases


#: How far ahead a due date may lie. A date years away is almost always a typo in the year
#: (2062 for 2026); it would keep the case out of the overdue reminders for decades.
DUE_DATE_HORIZON = datetime.timedelta(days=2 * 365)


def set_due_date(*, case: Case, due_on: datetime.date, actor: Any) -> Case:
    """Set the day by which the open ``case`` should be decided; it counts as overdue after it.

    Raises :class:`DueDateError` for a day before today or beyond :data:`DUE_DATE_HORIZON`.
    The same date again changes nothing.
    """
    today = timezone.localdate()
    if due_on < today:
        raise DueDateError(_("The due date cannot lie in the past."))
    latest = today + DUE_DATE_HORIZON
    if due_on > latest:
        raise DueDateError(
            _("The due date can lie at most two years ahead, until %(date)s.")
            % {"date": date_format(latest, "SHORT_DATE_FORMAT")}
        )
    with transaction.atomic():
        locked = _lock(case)
        _not_a_party(locked, actor)
        if locked.status not in Case.OPEN_STATUSES:
            raise TransitionError(
                _("Case %(number)s is %(status)s; its due date can no longer change.")
                % {"number": locked.number, "status": _status_label(locked.status)}
            )
        if locked.due_on == due_on:
            return locked
        before = snapshot(locked)
        locked.due_on = due_on
        locked.reminded_on = None  # the next overdue reminder counts from the new date
        locked.save(update_fields=["due_on", "reminded_on", "updated_at"])
        _event(
            locked,
            kind=CaseEvent.Kind.DUE_DATE_SET,
            actor=actor,
            data={"from": before["due_on"], "to": due_on.isoformat()},
        )
        _audit(
            locked, action="case.due_date_set", actor=actor, before=before, after=snapshot(locked)
        )
    return locked


def _file_document(**document: Any) -> Any:
    """``records.add_document``, its refusals (e.g. a closed file) as :class:`CaseworkError`:
    callers of casework handle casework's errors only."""
    try:
        return records.add_document(**document)
    except RecordsError as exc:
        raise CaseworkError(str(exc)) from exc


def add_note(*, case: Case, text: str, actor: Any) -> CaseNote:
    """An internal note; it also goes into the file as a document."""
    text = (text or "").strip()
    if not text:
        raise CaseworkError(_("The note is empty."))
    with transaction.atomic():
        locked = _lock(case)
        _not_a_party(locked, actor)
        note = CaseNote.objects.create(case=locked, text=text, author=_user(actor))
        if locked.file is not None:
            with override(settings.LANGUAGE_CODE):  # the E-Akte is kept in German
                title = _("Note of %(date)s") % {"date": timezone.localdate().strftime("%d.%m.%Y")}
            _file_document(
                file=locked.file,
                title=title,
                kind="note",
                content=text.encode("utf-8"),
                original_name=f"vermerk-{note.pk}.txt",
                content_type="text/plain; charset=utf-8",
                actor=actor,
            )
        _event(locked, kind=CaseEvent.Kind.NOTE_ADDED, actor=actor, data={"note": note.pk})
        _audit(locked, action="case.note_added", actor=actor, after={"note": note.pk})
    return note


def add_internal_document(*, case: Case, title: str, file: FileData, actor: Any) -> Any:
    """An internal document (e.g. a register extract) filed on the case."""
    title = (title or "").strip()
    if not title:
        raise CaseworkError(_("The document needs a title."))
    name, content_type, data = file
    with transaction.atomic():
        locked = _lock(case)
        _not_a_party(locked, actor)
        if locked.file is None:
            raise CaseworkError(_("This case has no file."))
        version = _file_document(
            file=locked.file,
            title=title,
            kind="internal",
            content=data,
            original_name=name,
            content_type=content_type,
            actor=actor,
        )
        _event(
            locked,
            kind=CaseEvent.Kind.DOCUMENT_ADDED,
            actor=actor,
            note=title,
            data={"document_version": version.pk},
        )
        _audit(locked, action="case.document_added", actor=actor, after={"title": title})
    return version


# --- requests for documents -------------------------------------------------------------------


def request_documents(
    *, case: Case, description: str, due_on: datetime.date, actor: Any
) -> DocumentRequest:
    """Ask the citizen for evidence by ``due_on``; the case waits for the citizen.

    The request appears in the citizen's "Meine Anträge" and as a message in the mailbox.
    A missing description or a deadline in the past or beyond :data:`DUE_DATE_HORIZON` raises
    :class:`FieldError` naming the argument (``description``, ``due_on``).
    """

    description = (description or "").strip()
    if not description:
        raise FieldError(_("Describe which documents are needed."), field="description")
    if due_on < timezone.localdate():
        raise FieldError(_("The deadline must not be in the past."), field="due_on")
    latest = timezone.localdate() + DUE_DATE_HORIZON
    if due_on > latest:
        raise FieldError(
            _("The deadline can lie at most two years ahead, until %(date)s.")
            % {"date": date_format(latest, "SHORT_DATE_FORMAT")},
            field="due_on",
        )
    with transaction.atomic():
        locked = _lock(case)
        _not_a_party(locked, actor)
        if locked.status not in (S.RECEIVED, S.IN_REVIEW):
            raise _refuse_transition(locked, S.WAITING_FOR_CITIZEN)
        request = DocumentRequest.objects.create(
            case=locked, description=description, due_on=due_on, requested_by=_user(actor)
        )
        _event(
            locked,
            kind=CaseEvent.Kind.DOCUMENTS_REQUESTED,
            actor=actor,
            note=description,
            citizen_visible=True,
            data={"request": str(request.public_id), "due_on": due_on.isoformat()},
        )
        _move(locked, to_status=S.WAITING_FOR_CITIZEN, actor=actor)
        if locked.applicant is not None:
            with override("de"):
                subject = _("Documents needed for your application (%(number)s)") % {
                    "number": locked.number
                }
                body = _(
                    "For your application “%(service)s” we need the following from you by "
                    "%(due)s:\n\n%(description)s\n\nPlease upload the documents under "
                    "“Meine Anträge”."
                ) % {
                    "service": locked.service.name_de,
                    "due": due_on.strftime("%d.%m.%Y"),
                    "description": description,
                }
            _to_applicant(locked, kind="request", subject=subject, body=body, actor=actor)
        _audit(
            locked,
            action="case.documents_requested",
            actor=actor,
            after={"request": request.pk, "due_on": due_on.isoformat()},
        )
    return request


def receive_documents(
    *, request: DocumentRequest, files: Sequence[FileData], actor: Any, note: str = ""
) -> DocumentRequest:
    """The citizen's answer to a request: files go into the case's file, the case back to review.

    The files must already have passed the upload checks (type by content, virus scan).
    """
    if not files:
        raise CaseworkError(_("Please choose at least one file."))
    with transaction.atomic():
        locked_case = _lock(request.case)
        locked = DocumentRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != DocumentRequest.Status.OPEN:
            raise CaseworkError(_("This request has already been answered or was withdrawn."))
        if locked_case.status != S.WAITING_FOR_CITIZEN:
            raise _refuse_transition(locked_case, S.IN_REVIEW)
        versions = []
        for name, content_type, data in files:
            if locked_case.file is not None:
                with override(settings.LANGUAGE_CODE):  # the E-Akte is kept in German
                    title = _("Document from the citizen: %(name)s") % {"name": name}
                version = _file_document(
                    file=locked_case.file,
                    title=title,
                    kind="upload",
                    content=data,
                    original_name=name,
                    content_type=content_type,
                    actor=actor,
                )
                versions.append(version.pk)
        locked.status = DocumentRequest.Status.ANSWERED
        locked.answered_at = timezone.now()
        locked.answer_note = (note or "").strip()
        locked.save(update_fields=["status", "answered_at", "answer_note"])
        _event(
            locked_case,
            kind=CaseEvent.Kind.DOCUMENTS_RECEIVED,
            actor=actor,
            note=locked.answer_note,
            citizen_visible=True,
            data={
                "request": str(locked.public_id),
                "files": [
                    {"name": n, "sha256": hashlib.sha256(d).hexdigest()} for n, _t, d in files
                ],
                "document_versions": versions,
            },
        )
        _move(locked_case, to_status=S.IN_REVIEW, actor=actor)
        _audit(
            locked_case,
            action="case.documents_received",
            actor=actor,
            after={"request": locked.pk, "files": len(files)},
        )
    return locked


# --- notices ----------------------------------------------------------------------------------


def residence_of(case: Case) -> Municipality:
    """The municipality the applicant applied in as a resident: the application's. For a
    shared service ("Einer für Alle") it is not the municipality of the handling authority.
    A case opened without an application (a test, an import) has the authority's."""
    application = getattr(case, "application", None)  # the reverse one-to-one, if any
    municipality = getattr(application, "municipality", None)
    return municipality if municipality is not None else case.authority.municipality


def notice_values(case: Case, *, on: datetime.date | None = None) -> dict[str, Any]:
    """The placeholder values of a case for its notice templates.

    ``municipality_name`` is the city of the authority (its statutes, its offices);
    ``residence_municipality_name`` the applicant's (its population register). The court is the
    one of the applicant's residence: where an authority acts for several municipalities, the
    court of the district where the citizen lives has jurisdiction (§ 52 Nr. 3 Satz 2 VwGO).
    """
    day = on or timezone.localdate()
    residence = residence_of(case)
    values = {
        "applicant_name": case.applicant_name or None,
        "case_number": case.number,
        "file_reference": case.file.reference if case.file is not None else None,
        "decided_on": day.strftime("%d.%m.%Y"),
        "opened_on": timezone.localdate(case.opened_at).strftime("%d.%m.%Y"),
        "service_name": case.service.name_de,
        "authority_name": case.authority.name,
        "municipality_name": case.authority.municipality.name,
        "residence_municipality_name": residence.name,
        "court": notice_templates.court_for(residence.ags),
        "particulars": notice_templates.template_values(case.particulars or {}),
    }
    # A value that is not known is left out, so that a template using it is refused by name.
    return {key: value for key, value in values.items() if value not in (None, "")}


def _decidable(case: Case) -> None:
    if case.status == S.DECIDED:
        issued = case.notices.filter(status=Notice.Status.ISSUED).first()
        who = issued.issued_by if issued is not None else None
        raise TransitionError(
            _("Case %(number)s has just been decided by %(who)s; your decision was not issued.")
            % {"number": case.number, "who": who or _("another clerk")}
        )
    if case.status in (S.CLOSED, S.WITHDRAWN):
        raise TransitionError(
            _("Case %(number)s is %(status)s; no decision can be made on it.")
            % {"number": case.number, "status": _status_label(case.status)}
        )
    if case.status == S.WAITING_FOR_CITIZEN:
        raise TransitionError(
            _(
                "Case %(number)s is waiting for documents from the citizen. To decide without "
                "them, first withdraw the request with “Resume the review”."
            )
            % {"number": case.number}
        )


def draft_notice(*, case: Case, template_key: str, actor: Any) -> Notice:
    """A notice from the service's template ``template_key``, filled in, to be edited.

    Refused on decided, closed or withdrawn cases, when a placeholder has no value, to the
    applicant (§ 20 VwVfG), and while the case has a draft or a notice awaiting approval (a
    second click on "draft" must not make a second draft). A received case moves into review.
    The date of the decision (``{{ decided_on }}``) stays a placeholder until the notice is
    issued (:func:`issue_notice`).
    """
    with transaction.atomic():
        locked = _lock(case)
        _not_a_party(locked, actor)
        _decidable(locked)
        pending = (
            Notice.objects.filter(
                case=locked, status__in=(Notice.Status.DRAFT, Notice.Status.AWAITING_APPROVAL)
            )
            .order_by("-drafted_at", "-pk")
            .first()
        )
        if pending is not None:
            raise CaseworkError(
                _(
                    "Case %(number)s already has the notice draft “%(title)s” (%(status)s); "
                    "no second one was drafted. Edit that one; its outcome can be changed."
                )
                % {
                    "number": locked.number,
                    "title": pending.title,
                    "status": pending.get_status_display(),
                }
            )
        template = notice_templates.template(locked.service.slug, template_key)
        # {{ decided_on }} stays in the draft: it is the day of issue, filled in then.
        filled = template.fill(notice_templates.keeping_issue_placeholders(notice_values(locked)))
        workflow = notice_templates.workflow_for(locked.service.slug)
        if locked.status == S.RECEIVED:
            _move(locked, to_status=S.IN_REVIEW, actor=actor)
        notice = Notice.objects.create(
            case=locked,
            template_key=template.key,
            document_type=notice_templates.document_type_for(
                template.document_type, template.outcome
            ),
            title=filled["title"][:200],
            body=filled["body"],
            outcome=template.outcome,
            legal_basis=filled["legal_basis"],
            remedy=filled["remedy"],
            # A template only adds to the service's rule, and to its outcome's: a partial
            # grant needs a second clerk wherever a refusal does.
            four_eyes=workflow.four_eyes
            or bool(template.four_eyes)
            or notice_templates.four_eyes_for_outcome(locked.service.slug, template.outcome),
            drafted_by=_user(actor),
        )
        _event(
            locked,
            kind=CaseEvent.Kind.NOTICE_DRAFTED,
            actor=actor,
            note=notice.title,
            data={"notice": str(notice.public_id), "template": template.key},
        )
        _audit(
            locked,
            action="case.notice_drafted",
            actor=actor,
            after={"notice": notice.pk, "template": template.key, "outcome": notice.outcome},
        )
    return notice


def _check_text(notice: Notice, *, final: bool = True) -> None:
    """Refuse placeholders left in the text; before it goes out (``final``) also the
    ``[Bitte … ergänzen]`` instructions of the templates."""
    for field in ("title", "body", "legal_basis", "remedy"):
        leftover = notice_templates.leftover_placeholder(getattr(notice, field))
        if leftover and (final or not leftover.startswith("[")):
            raise NoticeTemplateError(
                _("The text still contains “%(placeholder)s”; replace it before going on.")
                % {"placeholder": leftover}
            )
    if not notice.title.strip() or not notice.body.strip():
        raise NoticeTemplateError(_("A notice needs a title and a text."))
    if not notice.remedy.strip() and notice_templates.needs_remedy(
        document_type=notice.document_type, outcome=notice.outcome
    ):
        raise NoticeTemplateError(
            _("This notice needs its Rechtsbehelfsbelehrung (instructions on legal remedies).")
        )


def _lock_notice(notice: Notice) -> tuple[Case, Notice]:
    case = _lock(notice.case)
    return case, Notice.objects.select_for_update().get(pk=notice.pk)


def notice_text_digest(notice: Notice) -> str:
    """The SHA-256 of what ``notice`` says (title, outcome, type, text, legal basis, remedy).

    An approval records it (``Notice.approved_text_sha256``) and covers exactly that text:
    issuing compares it again. Casework migration 0015 keeps a copy of this function.
    """
    said = {key: value for key, value in _notice_text(notice).items() if key != "four_eyes"}
    canonical = json.dumps(said, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


#: What a clerk is told when the notice changed after their page was read (by the action).
_CHANGED_MEANWHILE = {
    "save": gettext_lazy(
        "Your changes were not saved: the notice “%(title)s” was changed by someone else after "
        "you opened the page. The saved text is shown above yours; take over what is still "
        "needed and save again."
    ),
    "submit": gettext_lazy(
        "The notice “%(title)s” was changed after you opened the page and has not been "
        "submitted for approval. Read the current text first."
    ),
    "approve": gettext_lazy(
        "The notice “%(title)s” was changed after you opened the page; your approval was not "
        "recorded. Read the current text and approve it if it is right."
    ),
    "return": gettext_lazy(
        "The notice “%(title)s” was changed after you opened the page; it has not been "
        "returned. Read its current state first."
    ),
    "issue": gettext_lazy(
        "The notice “%(title)s” was changed after you opened the page; it has not been issued. "
        "Read the current text and issue it if it is right."
    ),
    "request_revocation": gettext_lazy(
        "The notice “%(title)s” was changed after you opened the page; its revocation has not "
        "been requested. Read its current state first."
    ),
    "confirm_revocation": gettext_lazy(
        "The revocation of the notice “%(title)s” was changed after you opened the page; it "
        "has not been confirmed. Read the current request and confirm it if it is right."
    ),
    "reject_revocation": gettext_lazy(
        "The revocation of the notice “%(title)s” was changed after you opened the page; "
        "nothing has been rejected. Read its current state first."
    ),
}


def _check_version(notice: Notice, version: int | None, *, action: str) -> None:
    """Refuse acting on the locked ``notice`` when the page the clerk read showed another
    ``version`` of it (None: the caller holds no page, e.g. a job)."""
    if version is not None and version != notice.version:
        raise ChangedMeanwhileError(_CHANGED_MEANWHILE[action] % {"title": notice.title})


def update_notice(
    *,
    notice: Notice,
    actor: Any,
    title: str | None = None,
    body: str | None = None,
    legal_basis: str | None = None,
    remedy: str | None = None,
    outcome: str | None = None,
    version: int | None = None,
) -> Notice:
    """The clerk edits a draft; a text with a left-over placeholder is refused. ``version`` is
    the one the clerk's page showed: a draft changed since is not overwritten
    (:class:`ChangedMeanwhileError`)."""
    with transaction.atomic():
        case, locked = _lock_notice(notice)
        _not_a_party(case, actor)
        _decidable(case)
        _check_version(locked, version, action="save")
        if locked.status != Notice.Status.DRAFT:
            raise CaseworkError(_("Only a draft can be edited."))
        before = _notice_text(locked)
        for field, value in (
            ("title", title),
            ("body", body),
            ("legal_basis", legal_basis),
            ("remedy", remedy),
        ):
            if value is not None:
                setattr(locked, field, value.strip())
        if outcome is not None:
            if outcome not in notice_templates.OUTCOMES:
                raise CaseworkError(_("Unknown outcome."))
            if outcome != locked.outcome:
                # A grant turned into a refusal needs what the service's refusals need.
                locked.four_eyes = locked.four_eyes or notice_templates.four_eyes_for_outcome(
                    case.service.slug, outcome
                )
            locked.outcome = outcome
            try:
                drafted_as = notice_templates.template(case.service.slug, locked.template_key)
            except NoticeTemplateError:  # the template was removed since: keep what it gave
                drafted_type = locked.document_type
            else:
                drafted_type = drafted_as.document_type
            locked.document_type = notice_templates.document_type_for(drafted_type, outcome)
        _check_text(locked, final=False)
        if _notice_text(locked) != before:
            locked.version += 1
        locked.save()
        editor = _user(actor)
        if editor is not None and editor.pk != locked.drafted_by_id:
            locked.edited_by.add(editor)
        _audit(
            case,
            action="case.notice_updated",
            actor=actor,
            before={"notice": locked.pk, **before},
            after={"notice": locked.pk, "version": locked.version, **_notice_text(locked)},
        )
    return locked


def _notice_text(notice: Notice) -> dict[str, Any]:
    """What an edit of a draft can change, as the audit trail keeps it."""
    return {
        "title": notice.title,
        "outcome": notice.outcome,
        "document_type": notice.document_type,
        "body": notice.body,
        "legal_basis": notice.legal_basis,
        "remedy": notice.remedy,
        "four_eyes": notice.four_eyes,
    }


def submit_for_approval(*, notice: Notice, actor: Any, version: int | None = None) -> Notice:
    """Four-eyes rule: the draft goes to a second clerk (``version`` as for
    :func:`update_notice`)."""
    with transaction.atomic():
        case, locked = _lock_notice(notice)
        _not_a_party(case, actor)
        _decidable(case)
        _check_version(locked, version, action="submit")
        if locked.status != Notice.Status.DRAFT:
            raise CaseworkError(_("Only a draft can be submitted for approval."))
        _check_text(locked)
        locked.status = Notice.Status.AWAITING_APPROVAL
        locked.submitted_at = timezone.now()
        locked.approved_by = None
        locked.approved_at = None
        locked.approved_text_sha256 = ""
        locked.version += 1
        locked.save()
        _notice_event(
            case,
            locked,
            kind=CaseEvent.Kind.NOTICE_SUBMITTED,
            actor=actor,
            note=locked.title,
        )
        _audit(
            case,
            action="case.notice_submitted",
            actor=actor,
            before={"notice": locked.pk, "status": Notice.Status.DRAFT},
            after={"notice": locked.pk, "status": locked.status, "version": locked.version},
        )
    return locked


def approve_notice(*, notice: Notice, actor: Any, version: int | None = None) -> Notice:
    """The second clerk approves; it must be someone other than the drafter.

    ``version`` is the one the approver's page showed: an approval counts for the text the
    approver read and for no other (a notice returned, rewritten and submitted again since is
    refused with :class:`ChangedMeanwhileError`). The digest of the approved text is kept.
    """
    with transaction.atomic():
        case, locked = _lock_notice(notice)
        _not_a_party(case, actor)
        _decidable(case)
        _check_version(locked, version, action="approve")
        if locked.status != Notice.Status.AWAITING_APPROVAL:
            raise CaseworkError(_("This notice is not awaiting approval."))
        if locked.approved_by_id is not None:
            raise CaseworkError(_("This notice has already been approved."))
        if _user(actor) is None or wrote_notice(locked, actor.pk):
            raise CaseworkError(
                _("A second clerk must approve this notice, not one who drafted or edited it.")
            )
        locked.approved_by = actor
        locked.approved_at = timezone.now()
        locked.approved_text_sha256 = notice_text_digest(locked)
        locked.version += 1
        locked.save(update_fields=["approved_by", "approved_at", "approved_text_sha256", "version"])
        _notice_event(
            case,
            locked,
            kind=CaseEvent.Kind.NOTICE_APPROVED,
            actor=actor,
            note=locked.title,
        )
        _audit(
            case,
            action="case.notice_approved",
            actor=actor,
            after={
                "notice": locked.pk,
                "approved_by": actor.pk,
                "approved_text_sha256": locked.approved_text_sha256,
                "version": locked.version,
            },
        )
    return locked


def return_notice(
    *, notice: Notice, actor: Any, reason: str = "", version: int | None = None
) -> Notice:
    """The second clerk sends the draft back for changes (``version`` as for
    :func:`approve_notice`)."""
    with transaction.atomic():
        case, locked = _lock_notice(notice)
        _not_a_party(case, actor)
        _check_version(locked, version, action="return")
        if locked.status != Notice.Status.AWAITING_APPROVAL:
            raise CaseworkError(_("This notice is not awaiting approval."))
        locked.status = Notice.Status.DRAFT
        locked.approved_by = None
        locked.approved_at = None
        locked.approved_text_sha256 = ""
        locked.version += 1
        locked.save(
            update_fields=[
                "status",
                "approved_by",
                "approved_at",
                "approved_text_sha256",
                "version",
            ]
        )
        _notice_event(
            case,
            locked,
            kind=CaseEvent.Kind.NOTICE_RETURNED,
            actor=actor,
            note=(reason or "").strip(),
        )
        _audit(
            case,
            action="case.notice_returned",
            actor=actor,
            before={"notice": locked.pk, "status": Notice.Status.AWAITING_APPROVAL},
            after={"notice": locked.pk, "status": locked.status, "version": locked.version},
        )
    return locked


@contextmanager
def _sealing() -> Iterator[None]:
    """A seal that cannot be made stops the issuing (the transaction rolls back) with a message
    for the clerk instead of a server error."""
    try:
        yield
    except TimestampUnavailable as exc:
        logger.warning("notice not sealed: no time stamp", extra={"error": str(exc)[:500]})
        raise CaseworkError(
            _(
                "The time-stamping service did not answer, so the document could not be sealed "
                "and has not been issued. Please try again in a few minutes."
            )
        ) from exc
    except LedgerError as exc:  # e.g. no fresh verification code after several tries
        logger.exception("notice not logged in GovChain")
        raise CaseworkError(str(exc)) from exc
    except SealError as exc:
        logger.exception("notice not sealed")
        raise CaseworkError(
            _(
                "The document could not be sealed and has not been issued. Please try again; "
                "if it keeps failing, tell the administrators."
            )
        ) from exc


def issue_notice(*, notice: Notice, actor: Any, version: int | None = None) -> Notice:
    """Decide the case: render the notice to PDF/A, seal it, log it, file it, deliver it.

    Exactly one notice per case is issued: the case row is locked, and a clerk whose colleague
    decided a moment earlier gets a :class:`TransitionError` saying so. Under the four-eyes rule
    the notice needs the approval of a clerk other than its drafter. Delivery goes to the
    mailbox, or, where the citizen opted out of electronic delivery (§ 9 OZG), to a postal
    delivery task for the clerks. ``version`` is the one the clerk's page showed: a text changed
    since is not issued unseen (:class:`ChangedMeanwhileError`); an approval covers only the
    text it was given for (``approved_text_sha256``). The applicant never issues (§ 20 VwVfG).
    """
    from rathaus.casework.notice_pdf import render_notice_pdf
    from rathaus.ledger.issuing import issue_document

    with transaction.atomic():
        case, locked = _lock_notice(notice)
        _not_a_party(case, actor)
        _decidable(case)
        if locked.status == Notice.Status.ISSUED:
            raise TransitionError(_("This notice has already been issued."))
        _check_version(locked, version, action="issue")
        if locked.status not in (Notice.Status.DRAFT, Notice.Status.AWAITING_APPROVAL):
            raise CaseworkError(_("This notice can no longer be issued."))
        if locked.four_eyes:
            if locked.status != Notice.Status.AWAITING_APPROVAL or locked.approved_by_id is None:
                raise CaseworkError(
                    _("This notice needs the approval of a second clerk before it is issued.")
                )
            if wrote_notice(locked, locked.approved_by_id):
                raise CaseworkError(
                    _("A second clerk must approve this notice, not one who drafted or edited it.")
                )
            if locked.approved_text_sha256 != notice_text_digest(locked):
                raise CaseworkError(
                    _(
                        "The approval of the notice “%(title)s” was given for another text; it "
                        "has not been issued. Return it and have the current text approved."
                    )
                    % {"title": locked.title}
                )
        now = timezone.now()
        # The decision's date is the day of issue: filled in only now, in the text approved
        # with the placeholder (so the digest above was of the text the approver read).
        for field in ("title", "body", "legal_basis", "remedy"):
            setattr(
                locked,
                field,
                notice_templates.fill_issue_placeholders(
                    getattr(locked, field),
                    decided_on=timezone.localdate(now),
                    service_slug=case.service.slug,
                    particulars=case.particulars,
                ),
            )
        _check_text(locked)
        with _sealing():
            issued = issue_document(
                render=lambda verification: render_notice_pdf(
                    notice=locked, case=case, issued_at=now, verification=verification
                ),
                document_type=locked.document_type,
                authority=case.authority,
            )
        pdf = issued.pdf
        filename = f"{locked.title[:60]} {case.number}.pdf".replace("/", "-")
        locked.pdf.save(filename, ContentFile(pdf), save=False)
        locked.sha256 = hashlib.sha256(pdf).hexdigest()
        locked.ledger_code = issued.code
        locked.status = Notice.Status.ISSUED
        locked.issued_by = _user(actor)
        locked.issued_at = now
        locked.version += 1
        if case.file is not None:
            locked.record_version = _file_document(
                file=case.file,
                title=locked.title,
                kind="notice",
                content=pdf,
                original_name=filename,
                content_type="application/pdf",
                actor=actor,
            )
        if case.electronic_delivery and case.applicant is not None:
            with override("de"):
                body = _(
                    "Your notice on your application “%(service)s” (case %(number)s) is "
                    "attached as a sealed PDF document."
                ) % {"service": case.service.name_de, "number": case.number}
            locked.mailbox_message = _to_applicant(
                case,
                kind="notice",
                subject=locked.title,
                body=body,
                actor=actor,
                attachments=[(filename, "application/pdf", pdf)],
                provided_at=timezone.now(),  # available from now on, after rendering and sealing
                legal_basis=notice_templates.workflow_for(case.service.slug).announcement,
            )
        else:
            locked.delivered_by_post = True
        locked.save()
        _discard_drafts(case, actor=actor, keep=locked)
        _move(
            case,
            to_status=S.DECIDED,
            actor=actor,
            data={"notice": str(locked.public_id)},
            outcome=locked.outcome,
        )
        _notice_event(
            case,
            locked,
            kind=CaseEvent.Kind.NOTICE_ISSUED,
            actor=actor,
            note=locked.title,
            citizen_visible=True,
            outcome=locked.outcome,
        )
        if locked.delivered_by_post:
            PostalDeliveryTask.objects.create(notice=locked, case=case, authority=case.authority)
            _notice_event(
                case,
                locked,
                kind=CaseEvent.Kind.POSTAL_DELIVERY,
                actor=actor,
                citizen_visible=True,
            )
        _audit(
            case,
            action="case.notice_issued",
            actor=actor,
            after={
                "notice": locked.pk,
                "outcome": locked.outcome,
                "sha256": locked.sha256,
                "ledger_code": locked.ledger_code,
                "approved_by": locked.approved_by_id,
                "approved_text_sha256": locked.approved_text_sha256,
                "delivered_by_post": locked.delivered_by_post,
            },
        )
    return locked


def mark_posted(
    *, task: PostalDeliveryTask, actor: Any, sent_on: datetime.date | None = None
) -> PostalDeliveryTask:
    """A clerk has put the printed notice (or revocation letter) in the post."""
    with transaction.atomic():
        case = _lock(task.case)
        _not_a_party(case, actor)
        locked = (
            PostalDeliveryTask.objects.select_for_update(of=("self",))
            .select_related("notice")
            .get(pk=task.pk)
        )
        revocation = locked.kind == PostalDeliveryTask.Kind.REVOCATION
        if locked.status == PostalDeliveryTask.Status.SENT:
            if revocation:
                raise CaseworkError(_("This revocation letter has already been posted."))
            raise CaseworkError(_("This notice has already been posted."))
        if locked.status == PostalDeliveryTask.Status.CANCELLED:
            raise CaseworkError(_("This notice has been revoked; it must not be posted."))
        sent_on = sent_on or timezone.localdate()
        # the posting date starts the deemed delivery (Bekanntgabe) of what is posted: it cannot
        # lie before the notice, or the revocation letter, existed
        written_at = locked.notice.revoked_at if revocation else locked.notice.issued_at
        if written_at is not None and sent_on < timezone.localdate(written_at):
            if revocation:
                message = _(
                    "The posting date cannot lie before the revocation letter was written "
                    "(%(date)s)."
                )
            else:
                message = _("The posting date cannot lie before the notice was issued (%(date)s).")
            written_on = date_format(timezone.localdate(written_at), "SHORT_DATE_FORMAT")
            raise FieldError(message % {"date": written_on}, field="sent_on")
        locked.status = PostalDeliveryTask.Status.SENT
        locked.sent_on = sent_on
        locked.sent_by = _user(actor)
        locked.save(update_fields=["status", "sent_on", "sent_by"])
        data: dict[str, Any] = {
            "notice": str(locked.notice.public_id),
            "sent_on": locked.sent_on.isoformat(),
        }
        if revocation:
            data["document_version"] = locked.letter_id
        _event(
            case,
            kind=CaseEvent.Kind.REVOCATION_POSTED if revocation else CaseEvent.Kind.POSTAL_SENT,
            actor=actor,
            citizen_visible=True,
            data=data,
        )
        _audit(
            case,
            action="case.revocation_posted" if revocation else "case.notice_posted",
            actor=actor,
            before={"postal_task": locked.pk, "status": PostalDeliveryTask.Status.OPEN},
            after={"postal_task": locked.pk, "status": locked.status},
        )
    return locked


def revocation_needs_four_eyes(notice: Notice) -> bool:
    """Whether revoking ``notice`` needs a second clerk's confirmation.

    The revocation (Aufhebungsbescheid) is itself a notice, and taking back what was decided
    burdens the citizen like a refusal: it needs a second clerk wherever the service's notices
    all do or its refusals do (``casework.toml``, the refusal templates), and wherever the
    revoked notice itself did.
    """
    return notice.four_eyes or notice_templates.four_eyes_for_outcome(
        notice.case.service.slug, Case.Outcome.REFUSED
    )


def _revocation_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FieldError(_("Please give the reason for the revocation."), field="reason")
    return reason


def _revocable(case: Case, notice: Notice) -> None:
    """Refuse revoking the locked ``notice`` unless it is the issued notice of a decided case."""
    if notice.status != Notice.Status.ISSUED:
        raise CaseworkError(_("Only an issued notice can be revoked."))
    if case.status != S.DECIDED:
        raise _refuse_transition(case, S.IN_REVIEW)


def _awaiting_confirmation(notice: Notice) -> CaseworkError:
    return CaseworkError(
        _(
            "The revocation of the notice “%(title)s” has been requested by %(who)s and awaits "
            "a second clerk's confirmation."
        )
        % {"title": notice.title, "who": notice.revocation_requested_by or _("a colleague")}
    )


def revoke_notice(
    *,
    notice: Notice,
    reason: str,
    actor: Any,
    ledger_reason: str = "withdrawn",
    legal_basis: str = "",
) -> Notice:
    """Revoke an issued notice (Widerruf/Rücknahme): logged in the ledger, the case reopens.

    The revocation is itself an administrative act (Aufhebungsbescheid): a sealed letter with
    the reason, the ``legal_basis`` and the revoked notice's instructions on legal remedies,
    logged in GovChain and filed in the E-Akte. It reaches the citizen the way the notice did:
    in the mailbox as a notice (announced under § 9 OZG), or, when they had the notice by post,
    through a postal task for the clerks. A notice not posted yet is simply not posted, and
    needs no revocation letter: it never reached the citizen. The decided case goes back to
    review so that a new notice can be issued. A closed case's notice cannot be revoked here.

    Where the revocation needs a second clerk (:func:`revocation_needs_four_eyes`) one clerk
    cannot revoke alone: :func:`request_revocation`, then :func:`confirm_revocation`.
    """
    reason = _revocation_reason(reason)
    with transaction.atomic():
        case, locked = _lock_notice(notice)
        _not_a_party(case, actor)
        _revocable(case, locked)
        if locked.revocation_pending:
            raise _awaiting_confirmation(locked)
        if revocation_needs_four_eyes(locked):
            raise CaseworkError(
                _(
                    "Revoking the notice “%(title)s” needs a second clerk: request the "
                    "revocation, and a colleague confirms it."
                )
                % {"title": locked.title}
            )
        locked.revocation_reason = reason
        locked.revocation_legal_basis = (legal_basis or "").strip()
        locked.revocation_kind = ledger_reason
        _revoke(case, locked, actor=actor)
    return locked


def request_revocation(
    *,
    notice: Notice,
    reason: str,
    actor: Any,
    ledger_reason: str = "withdrawn",
    legal_basis: str = "",
    version: int | None = None,
) -> Notice:
    """First step of a revocation under the four-eyes rule: a clerk asks for it, with the
    reason, the ``legal_basis`` and the kind (``ledger_reason``) the revocation letter will
    carry. The notice stays issued until a second clerk confirms (:func:`confirm_revocation`)
    or rejects (:func:`reject_revocation`) exactly this request. ``version`` as for
    :func:`update_notice`."""
    from rathaus.ledger.models import RevocationReason

    reason = _revocation_reason(reason)
    if ledger_reason not in RevocationReason.values:
        raise CaseworkError(_("Unknown kind of revocation."))
    if _user(actor) is None:
        raise CaseworkError(_("Only a clerk can request a revocation."))
    with transaction.atomic():
        case, locked = _lock_notice(notice)
        _not_a_party(case, actor)
        _revocable(case, locked)
        _check_version(locked, version, action="request_revocation")
        if locked.revocation_pending:
            raise _awaiting_confirmation(locked)
        locked.revocation_requested_by = actor
        locked.revocation_requested_at = timezone.now()
        locked.revocation_reason = reason
        locked.revocation_legal_basis = (legal_basis or "").strip()
        locked.revocation_kind = ledger_reason
        locked.version += 1
        locked.save(update_fields=[*_REVOCATION_REQUEST_FIELDS, "version"])
        _notice_event(
            case,
            locked,
            kind=CaseEvent.Kind.REVOCATION_REQUESTED,
            actor=actor,
            note=reason,
            legal_basis=locked.revocation_legal_basis,
            revocation_kind=ledger_reason,
        )
        _audit(
            case,
            action="case.notice_revocation_requested",
            actor=actor,
            before={"notice": locked.pk, "status": locked.status},
            after={"notice": locked.pk, "version": locked.version, **_revocation_request(locked)},
        )
    return locked


#: What a request for a revocation consists of (reset when it is rejected).
_REVOCATION_REQUEST_FIELDS = (
    "revocation_requested_by",
    "revocation_requested_at",
    "revocation_reason",
    "revocation_legal_basis",
    "revocation_kind",
)


def _revocation_request(notice: Notice) -> dict[str, Any]:
    """The request for the revocation of ``notice``, as the audit trail keeps it."""
    return {
        "requested_by": notice.revocation_requested_by_id,
        "requested_at": notice.revocation_requested_at.isoformat()
        if notice.revocation_requested_at
        else None,
        "reason": notice.revocation_reason,
        "legal_basis": notice.revocation_legal_basis,
        "kind": notice.revocation_kind,
    }


def confirm_revocation(*, notice: Notice, actor: Any, version: int | None = None) -> Notice:
    """Second step: a clerk other than the one who requested it confirms the revocation, as
    requested (``version`` is the one the confirming clerk's page showed), and revokes the
    notice (:func:`revoke_notice` says what that does). Both are named in the audit trail."""
    with transaction.atomic():
        case, locked = _lock_notice(notice)
        _not_a_party(case, actor)
        _check_version(locked, version, action="confirm_revocation")
        if not locked.revocation_pending:
            raise CaseworkError(_("No revocation of this notice awaits confirmation."))
        if _user(actor) is None or actor.pk == locked.revocation_requested_by_id:
            raise CaseworkError(
                _("A second clerk must confirm the revocation, not the one who requested it.")
            )
        _revocable(case, locked)
        locked.revocation_confirmed_by = actor
        _revoke(case, locked, actor=actor)
    return locked


def reject_revocation(
    *, notice: Notice, actor: Any, reason: str = "", version: int | None = None
) -> Notice:
    """The requested revocation is not carried out: a second clerk rejects it, or the clerk
    who requested it withdraws the request. The notice stays issued, as it was; the request
    stays in the history and the audit trail."""
    with transaction.atomic():
        case, locked = _lock_notice(notice)
        _not_a_party(case, actor)
        _check_version(locked, version, action="reject_revocation")
        if not locked.revocation_pending:
            raise CaseworkError(_("No revocation of this notice awaits confirmation."))
        request = _revocation_request(locked)
        for name in _REVOCATION_REQUEST_FIELDS:
            setattr(locked, name, None if name.endswith(("_by", "_at")) else "")
        locked.version += 1
        locked.save(update_fields=[*_REVOCATION_REQUEST_FIELDS, "version"])
        withdrawn = _user(actor) is not None and actor.pk == request["requested_by"]
        _notice_event(
            case,
            locked,
            kind=CaseEvent.Kind.REVOCATION_REJECTED,
            actor=actor,
            note=(reason or "").strip(),
            requested_by=request["requested_by"],
            withdrawn_by_requester=withdrawn,
        )
        _audit(
            case,
            action="case.notice_revocation_rejected",
            actor=actor,
            before={"notice": locked.pk, **request},
            after={
                "notice": locked.pk,
                "status": locked.status,
                "version": locked.version,
                "reason": (reason or "").strip(),
                "withdrawn_by_requester": withdrawn,
            },
        )
    return locked


def _revoke(case: Case, locked: Notice, *, actor: Any) -> None:
    """Revoke the locked, issued ``locked`` of the locked ``case`` with the reason, legal basis
    and kind it holds: ledger, notice, postal tasks, history, the case back to review, the
    revocation letter."""
    from rathaus.ledger import services as ledger

    reason = locked.revocation_reason
    posted = PostalDeliveryTask.objects.filter(
        notice=locked,
        kind=PostalDeliveryTask.Kind.NOTICE,
        status=PostalDeliveryTask.Status.SENT,
    ).exists()
    try:
        ledger.revoke(
            reason=locked.revocation_kind or "withdrawn",
            document_sha256=locked.sha256,
            authority=case.authority,
            actor=actor,
        )
    except ledger.LedgerError as exc:
        raise CaseworkError(str(exc)) from exc
    locked.status = Notice.Status.REVOKED
    locked.revoked_by = _user(actor)
    locked.revoked_at = timezone.now()
    locked.version += 1
    locked.save(
        update_fields=[
            "status",
            "revoked_by",
            "revoked_at",
            "revocation_reason",
            "revocation_legal_basis",
            "revocation_kind",
            "revocation_confirmed_by",
            "version",
        ]
    )
    # A revoked notice that has not been posted yet must not go out any more.
    unposted = (
        PostalDeliveryTask.objects.select_for_update()
        .filter(
            notice=locked,
            kind=PostalDeliveryTask.Kind.NOTICE,
            status=PostalDeliveryTask.Status.OPEN,
        )
        .first()
    )
    if unposted is not None:
        unposted.status = PostalDeliveryTask.Status.CANCELLED
        unposted.save(update_fields=["status"])
        _audit(
            case,
            action="case.postal_delivery_cancelled",
            actor=actor,
            before={"postal_task": unposted.pk, "status": PostalDeliveryTask.Status.OPEN},
            after={"postal_task": unposted.pk, "status": unposted.status},
        )
    _notice_event(
        case,
        locked,
        kind=CaseEvent.Kind.NOTICE_REVOKED,
        actor=actor,
        note=reason,
        citizen_visible=True,
        **({"postal_delivery_cancelled": True} if unposted is not None else {}),
        **(
            {"requested_by": locked.revocation_requested_by_id}
            if locked.revocation_requested_by_id
            else {}
        ),
    )
    _move(case, to_status=S.IN_REVIEW, actor=actor, note=reason)
    reached_electronically = not locked.delivered_by_post and case.applicant is not None
    if posted or reached_electronically:
        _issue_revocation(case, locked, actor=actor, by_post=posted)
    _audit(
        case,
        action="case.notice_revoked",
        actor=actor,
        before={"notice": locked.pk, "status": Notice.Status.ISSUED},
        after={
            "notice": locked.pk,
            "status": locked.status,
            "reason": reason,
            "legal_basis": locked.revocation_legal_basis,
            "kind": locked.revocation_kind,
            "requested_by": locked.revocation_requested_by_id,
            "confirmed_by": locked.revocation_confirmed_by_id,
        },
    )


def revocation_remedy(case: Case, notice: Notice) -> str:
    """The Rechtsbehelfsbelehrung of the revocation of ``notice``: the notice's own, or, for a
    certificate that had none, the one of the service's refusal (taking back what was granted
    burdens the citizen like a refusal). Empty only when the service has no refusal template
    with one; the letter then has none and the objection period is one year (§ 58 Abs. 2 VwGO).
    """
    if notice.remedy.strip():
        return notice.remedy
    for template in notice_templates.templates_for(case.service.slug).values():
        if template.outcome == Case.Outcome.REFUSED and template.remedy:
            return notice_templates.fill_text(
                template.remedy, notice_values(case), label=template.label
            )
    return ""


def _issue_revocation(case: Case, notice: Notice, *, actor: Any, by_post: bool) -> None:
    """The Aufhebungsbescheid of the revoked ``notice``: rendered, sealed, logged in GovChain,
    filed in the case's file, and delivered the way the notice was: to the mailbox (with legal
    effect, § 9 OZG) or, ``by_post``, through a postal task for a clerk."""
    from rathaus.casework.notice_pdf import render_revocation_pdf
    from rathaus.ledger.issuing import issue_document

    if case.file is None:
        raise CaseworkError(_("This case has no file for the revocation letter."))
    revoked_at = notice.revoked_at or timezone.now()
    issued_on = timezone.localdate(notice.issued_at) if notice.issued_at else None
    try:
        remedy = revocation_remedy(case, notice)
    except NoticeTemplateError as exc:
        raise CaseworkError(str(exc)) from exc
    with override("de"):
        subject = _("Revocation of the notice of %(date)s") % {
            "date": issued_on.strftime("%d.%m.%Y") if issued_on else ""
        }
    with _sealing():
        issued = issue_document(
            render=lambda verification: render_revocation_pdf(
                notice=notice,
                case=case,
                subject=subject,
                revoked_at=revoked_at,
                remedy=remedy,
                verification=verification,
            ),
            document_type="revocation",
            authority=case.authority,
        )
    pdf = issued.pdf
    filename = f"{subject} {case.number}.pdf".replace("/", "-")
    version = _file_document(
        file=case.file,
        title=subject,
        kind="correspondence",
        content=pdf,
        original_name=filename,
        content_type="application/pdf",
        actor=actor,
    )
    notice.revocation_letter = version
    notice.revocation_sha256 = hashlib.sha256(pdf).hexdigest()
    notice.revocation_ledger_code = issued.code
    if by_post:
        task = PostalDeliveryTask.objects.create(
            kind=PostalDeliveryTask.Kind.REVOCATION,
            notice=notice,
            letter=version,
            case=case,
            authority=case.authority,
        )
        _notice_event(
            case,
            notice,
            kind=CaseEvent.Kind.REVOCATION_POSTAL,
            actor=actor,
            note=subject,
            document_version=version.pk,
        )
        audit.record(
            actor=actor,
            action="case.revocation_letter_to_post",
            obj=task,
            after={"notice": notice.pk, "document_version": version.pk, "status": task.status},
            municipality=case.authority.municipality,
        )
    else:
        with override("de"):
            body = _(
                "The notice “%(title)s” of %(date)s on your application has been revoked. "
                "The revocation is attached as a sealed PDF document.\n\nReason: %(reason)s"
            ) % {
                "title": notice.title,
                "date": issued_on.strftime("%d.%m.%Y") if issued_on else "",
                "reason": notice.revocation_reason,
            }
        notice.revocation_message = _to_applicant(
            case,
            kind="notice",
            subject=subject,
            body=body,
            actor=actor,
            attachments=[(filename, "application/pdf", pdf)],
            provided_at=timezone.now(),  # available from now on, after rendering and sealing
            legal_basis=notice_templates.workflow_for(case.service.slug).announcement,
        )
    notice.save(
        update_fields=[
            "revocation_letter",
            "revocation_sha256",
            "revocation_ledger_code",
            "revocation_message",
        ]
    )
    _audit(
        case,
        action="case.revocation_issued",
        actor=actor,
        after={
            "notice": notice.pk,
            "document_version": version.pk,
            "sha256": notice.revocation_sha256,
            "ledger_code": notice.revocation_ledger_code,
            "delivered_by_post": by_post,
        },
    )


# --- the citizen's replies --------------------------------------------------------------------


def _file_reply_documents(file: Any, message: Any) -> list[int]:
    """File the reply's text and attachments in the case's file; returns the version ids.
    Their titles are German whatever the language of the citizen's page (the E-Akte's)."""
    body = f"{message.subject}\n\n{message.body}".strip()
    with override(settings.LANGUAGE_CODE):
        title = _("Reply from the citizen: %(subject)s") % {"subject": message.subject}
    versions = [
        records.add_document(
            file=file,
            title=title,
            kind="correspondence",
            content=body.encode("utf-8"),
            original_name=f"nachricht-{message.public_id}.txt",
            content_type="text/plain; charset=utf-8",
            actor=message.owner,
        ).pk
    ]
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            data = handle.read()
        with override(settings.LANGUAGE_CODE):
            title = _("Attachment to the reply: %(name)s") % {"name": attachment.name}
        versions.append(
            records.add_document(
                file=file,
                title=title,
                kind="correspondence",
                content=data,
                original_name=attachment.name,
                content_type=attachment.content_type,
                actor=message.owner,
            ).pk
        )
    return versions


def file_reply(*, message: Any, original: Any) -> Case | None:
    """A citizen's reply in the mailbox lands on the case it answers (receiver of
    ``mailbox.signals.reply_received``); returns the case, or None when it belongs to none."""
    number = getattr(original, "case_number", "") or ""
    if not number:
        return None
    candidates = Case.objects.filter(number=number, applicant_id=message.owner_id)
    if getattr(original, "authority_id", None):
        candidates = candidates.filter(authority_id=original.authority_id)
    case = candidates.first()
    if case is None:
        logger.warning("reply to an unknown case", extra={"case_number": number})
        return None
    with transaction.atomic():
        locked = _lock(case)
        versions: list[int] = []
        file_closed = False
        if locked.file is not None:
            try:
                with transaction.atomic():
                    versions = _file_reply_documents(locked.file, message)
            except RecordsError as exc:
                # The file of a withdrawn or closed case takes no documents. The reply stays in
                # the citizen's mailbox; the history tells the clerk that it arrived.
                logger.warning(
                    "reply to a case whose file is closed",
                    extra={"case_number": locked.number, "error": str(exc)},
                )
                versions, file_closed = [], True
        note = message.subject
        if file_closed:
            with override(settings.LANGUAGE_CODE):
                note = _(
                    "Reply received after the file was closed; it was not filed and is kept "
                    "in the mailbox only: %(subject)s"
                ) % {"subject": message.subject}
        _event(
            locked,
            kind=CaseEvent.Kind.REPLY_RECEIVED,
            actor=message.owner,
            note=note,
            data={
                "message": str(message.public_id),
                "document_versions": versions,
                "file_closed": file_closed,
            },
        )
        _audit(
            locked,
            action="case.reply_received",
            actor=message.owner,
            after={"message": message.pk, "documents": len(versions), "file_closed": file_closed},
        )
    return locked


# --- reminders --------------------------------------------------------------------------------


def _backoffice_url(case: Case) -> str:
    base = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return base + reverse("backoffice:case", kwargs={"pk": case.pk})


def remind_overdue(*, today: datetime.date | None = None) -> int:
    """E-mail each clerk the open cases past their due date (at most every
    ``CASEWORK_REMINDER_INTERVAL_DAYS``); unassigned cases, and cases whose assignee can no
    longer work on them (left the unit, or applied for it), go to the unit's team leads (of an
    unrouted case: the authority's), never to the applicant.
    Returns the number of cases reminded about."""
    from rathaus.accounts.roles import TEAM_LEAD

    today = today or timezone.localdate()
    interval = datetime.timedelta(days=int(getattr(settings, "CASEWORK_REMINDER_INTERVAL_DAYS", 7)))
    overdue = (
        Case.objects.filter(status__in=Case.OPEN_STATUSES, due_on__lt=today)
        .exclude(reminded_on__gt=today - interval)
        .select_related("assigned_to", "org_unit", "service")
        .order_by("due_on", "pk")
    )
    by_recipient: dict[str, list[Case]] = defaultdict(list)
    assignees: dict[int, Any] = {}  # one instance per user: its staff scope is read once
    for case in overdue:
        recipients: list[str] = []
        assignee = case.assigned_to
        if assignee is not None:
            assignee = assignees.setdefault(assignee.pk, assignee)
        if (
            assignee is not None
            and assignee.is_active
            and assignee.email
            and can_decide(assignee, case)  # not one who left the unit since, nor the applicant
        ):
            recipients = [assignee.email]
        else:
            # the team leads who see the case: of its unit, or of its authority when unrouted
            leads = StaffMembership.objects.filter(
                user__is_active=True, user__groups__name=TEAM_LEAD
            )
            if case.org_unit_id is not None:
                leads = leads.filter(org_unit_id=case.org_unit_id)
            else:
                leads = leads.filter(org_unit__authority_id=case.authority_id)
            if case.applicant_id is not None:
                leads = leads.exclude(user_id=case.applicant_id)
            recipients = list(
                leads.exclude(user__email="")  # a reminder nobody receives is no reminder
                .values_list("user__email", flat=True)
                .distinct()
            )
        for email in recipients:
            by_recipient[email].append(case)
    reminded: set[int] = set()
    with transaction.atomic():
        for case in {c.pk: c for cases in by_recipient.values() for c in cases}.values():
            # Claimed with the same conditions as selected: a run at the same time (another
            # worker) has either claimed it already or waits for this one; never both remind.
            claimed = (
                Case.objects.filter(pk=case.pk, status__in=Case.OPEN_STATUSES, due_on__lt=today)
                .exclude(reminded_on__gt=today - interval)
                .update(reminded_on=today)
            )
            if not claimed:
                continue
            _event(
                case,
                kind=CaseEvent.Kind.REMINDER_SENT,
                actor=None,
                data={"due_on": case.due_on.isoformat() if case.due_on else None},
            )
            reminded.add(case.pk)
        for email, cases in sorted(by_recipient.items()):
            cases = [c for c in cases if c.pk in reminded]
            if not cases:
                continue
            with override(settings.LANGUAGE_CODE):
                lines = [
                    _("- %(number)s · %(service)s · due since %(due)s\n  %(url)s")
                    % {
                        "number": c.number,
                        "service": c.service.name_de,
                        "due": c.due_on.strftime("%d.%m.%Y") if c.due_on else "",
                        "url": _backoffice_url(c),
                    }
                    for c in cases
                ]
                body = _(
                    "Hello,\n\nthese cases are past their due date:\n\n%(cases)s\n\n"
                    "This message was sent automatically."
                ) % {"cases": "\n".join(lines)}
                subject = _("Overdue cases: %(count)s") % {"count": len(cases)}
            # robust: one address the mail server refuses does not keep the others' reminders
            transaction.on_commit(
                functools.partial(send_mail, subject, body, None, [email], fail_silently=False),
                robust=True,
            )
    return len(reminded)


def staff_can_work(user: Any) -> bool:
    """Whether ``user`` is a clerk or team lead with at least one org unit."""
    return staff_scope(user).works_on_cases
