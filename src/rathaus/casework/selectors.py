"""Reading cases: what staff may see, what the citizen sees of their case."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.postgres.search import SearchVectorField
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rathaus.casework import notice_templates
from rathaus.casework.errors import StoredNoticeError
from rathaus.casework.models import (
    CITIZEN_STATUS_LABELS,
    Case,
    CaseEvent,
    DocumentRequest,
    Notice,
    PostalDeliveryTask,
)
from rathaus.casework.permissions import cases_visible_to as _cases_visible_to
from rathaus.core.stored_files import StoredFileUnavailable, read_verified

logger = logging.getLogger(__name__)


def cases_visible_to(user: Any) -> QuerySet[Case]:
    """The cases ``user`` may see in the back office (none for citizens and anonymous)."""
    return _cases_visible_to(user)


#: The format characters (Unicode 14.0 category Cf: zero width (non-)joiner and space, soft
#: hyphen, direction marks, byte order mark, …) as a character class that Python's ``re`` and
#: PostgreSQL's regular expressions read alike. A name is searched without them, as typed and
#: as stored: a word does not break at them (UAX #29, WB4), but PostgreSQL's parser and ``\w``
#: would, and SQLite's ``LIKE`` would not find the name typed without them: a Persian name
#: spelt with a zero width non-joiner between two letters is found typed without it, and the
#: other way round. The stored ``name_vector`` (casework migration 0018) drops the same
#: characters; tests/casework/test_name_search.py holds the two together.
NAME_FORMAT_CHARACTERS = (
    r"[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    r"\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    r"\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    r"\U000e0020-\U000e007f]"
)
_FORMAT_CHARACTER = re.compile(NAME_FORMAT_CHARACTERS)


def without_format_characters(text: str) -> str:
    """``text`` without :data:`NAME_FORMAT_CHARACTERS`, as a name is searched."""
    return _FORMAT_CHARACTER.sub("", text)


def name_vector() -> RawSQL:
    """The applicant's name as stored ``tsvector`` (``german``), for full-text filters.

    PostgreSQL only: the column is added by casework migration 0007 (since 0018 of the name
    without :data:`NAME_FORMAT_CHARACTERS`), filled by PostgreSQL and unknown to the model; the
    name indexes (GIN, and the queue's ordered ones) are built on it.
    """
    column = f'{connection.ops.quote_name(Case._meta.db_table)}."name_vector"'
    return RawSQL(column, [], output_field=SearchVectorField())  # noqa: S611 (constant text)


def overdue_cases(user: Any) -> QuerySet[Case]:
    return cases_visible_to(user).filter(
        status__in=Case.OPEN_STATUSES, due_on__lt=timezone.localdate()
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One step the citizen sees: when, what (a label in the current language), details."""

    at: datetime
    kind: str
    label: str
    status: str
    note: str


_CITIZEN_EVENT_LABELS: dict[str, Any] = {
    CaseEvent.Kind.OPENED: _("Application received by the authority"),
    CaseEvent.Kind.DOCUMENTS_REQUESTED: _("Documents requested from you"),
    CaseEvent.Kind.DOCUMENTS_RECEIVED: _("Your documents were received"),
    CaseEvent.Kind.REQUEST_CANCELLED: _("Request for documents withdrawn"),
    CaseEvent.Kind.NOTICE_ISSUED: _("Notice issued"),
    CaseEvent.Kind.NOTICE_REVOKED: _("Notice revoked"),
    CaseEvent.Kind.POSTAL_DELIVERY: _("Notice is being sent to you by post"),
    CaseEvent.Kind.POSTAL_SENT: _("Notice posted"),
}


def citizen_status_label(case: Case) -> str:
    return case.citizen_status_label


def _label(event: CaseEvent) -> str:
    if event.kind == CaseEvent.Kind.STATUS_CHANGED and event.to_status:
        return str(CITIZEN_STATUS_LABELS.get(event.to_status, event.to_status))
    return str(_CITIZEN_EVENT_LABELS.get(event.kind, event.get_kind_display()))


def citizen_timeline(case: Case) -> list[TimelineEntry]:
    """The citizen-facing steps of ``case`` in order (no internal notes or assignments).

    Internal wording stays internal: only the texts the citizen is meant to read (the request's
    description, the citizen's own comments) appear as notes.
    """
    shown_notes = {
        CaseEvent.Kind.DOCUMENTS_REQUESTED,
        CaseEvent.Kind.DOCUMENTS_RECEIVED,
        CaseEvent.Kind.NOTICE_ISSUED,
        CaseEvent.Kind.NOTICE_REVOKED,
    }
    events = case.events.filter(citizen_visible=True).order_by("at", "id")
    return [
        TimelineEntry(
            at=event.at,
            kind=event.kind,
            label=_label(event),
            status=event.to_status,
            note=event.note if event.kind in shown_notes else "",
        )
        for event in events
    ]


def open_request(case: Case) -> DocumentRequest | None:
    return case.document_requests.filter(status=DocumentRequest.Status.OPEN).first()


def issued_notice(case: Case) -> Notice | None:
    return case.notices.filter(status=Notice.Status.ISSUED).first()


def notice_pdf(notice: Notice) -> bytes:
    """The issued PDF of ``notice``, after checking it against the SHA-256 it was sealed with.

    Raises :class:`StoredNoticeError` (and logs an error for the operator) when the storage
    cannot read it or its bytes differ: a changed file is never handed out as the notice.
    """
    try:
        return read_verified(
            notice.pdf,
            sha256=notice.sha256,
            what="notice PDF",
            notice=notice.pk,
            case=notice.case_id,
        )
    except StoredFileUnavailable as exc:
        if exc.reason == "missing":
            message = gettext(
                "The PDF of the notice “%(title)s” cannot be read from the storage. The error "
                "has been logged for the administrators; the copy filed in the E-Akte may "
                "still be downloadable."
            )
        else:
            message = gettext(
                "The stored PDF of the notice “%(title)s” does not match the sealed one "
                "(SHA-256); it was changed outside the application and is not handed out. The "
                "error has been logged for the administrators."
            )
        raise StoredNoticeError(message % {"title": notice.title}) from exc


def revocations(case: Case) -> QuerySet[Notice]:
    """Revoked notices whose revocation (Aufhebungsbescheid) went to the citizen, oldest first
    (by its hash: the filed letter itself goes when the E-Akte disposes of the file)."""
    return (
        case.notices.filter(status=Notice.Status.REVOKED)
        .exclude(revocation_sha256="")
        .select_related("revocation_message")
        .order_by("revoked_at", "id")
    )


def notice_template_choices(case: Case) -> list[tuple[str, str]]:
    """(key, title) of the service's notice templates, for the clerk's choice."""
    return [
        (key, f"{t.title_de} ({Case.Outcome(t.outcome).label})")
        for key, t in sorted(notice_templates.templates_for(case.service.slug).items())
    ]


def pending_notices(case: Case) -> QuerySet[Notice]:
    return case.notices.filter(
        status__in=(Notice.Status.DRAFT, Notice.Status.AWAITING_APPROVAL)
    ).select_related("drafted_by", "approved_by")


def open_postal_tasks(user: Any) -> QuerySet[PostalDeliveryTask]:
    return PostalDeliveryTask.objects.filter(
        status=PostalDeliveryTask.Status.OPEN, case__in=cases_visible_to(user)
    ).select_related("case", "notice", "letter__document")


def case_history(case: Case) -> QuerySet[CaseEvent]:
    """The full history for the back office, oldest first."""
    return case.events.select_related("actor").order_by("at", "id")
