"""The rows of "Meine Anträge", read as values and formatted once (a page every citizen opens).

The citizen's applications come from ``applications.selectors.application_list_of`` (only their
own); the status is the one the citizen reads (``casework.models.CITIZEN_STATUS_LABELS``) once a
case exists. Drafts link to their page, which sends the citizen on to the step where they left
off (``applications.services.resume_step``: the form may have changed since), so the list reads no
form. What an application is for beyond its service (the election of a postal vote) is named
beside it. A draft of a service no longer offered online (switched off, or its form removed) is
marked so, without a way to continue it; it can still be deleted.

"Kept until" names the local date of the draft's expiry: it is deleted only once that day has
ended (``applications.services.expiry_cutoff``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone, translation

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.selectors import application_list_of, applied_for
from rathaus.casework.models import CITIZEN_STATUS_LABELS, Case
from rathaus.catalog.form_schemas import has_form_file
from rathaus.core.url_patterns import UUID_SAMPLE, url_pattern


@dataclass(frozen=True)
class Draft:
    public_id: str
    service: str
    applied_for: str
    saved: str
    expires: str
    continue_url: str
    delete_url: str
    offered: bool


@dataclass(frozen=True)
class Submitted:
    url: str
    reference: str
    service: str
    applied_for: str
    submitted: str
    status: str


@dataclass(frozen=True)
class ApplicationList:
    drafts: list[Draft]
    submitted: list[Submitted]


def _local(moment: datetime | None, pattern: str) -> str:
    return format(timezone.localtime(moment), pattern) if moment else ""


def application_list(user: User) -> ApplicationList:
    """Drafts and submitted applications of ``user``, newest change first."""
    rows = application_list_of(user=user).values(
        *("public_id", "status", "expires_at", "updated_at", "submitted_at"),
        *("reference", "service__name_de", "service__name_en", "case__status"),
        *("service__slug", "context", "service__is_active", "service__online"),
    )
    english = (translation.get_language() or "de").startswith("en")
    application_statuses = dict(Application.Status.choices)
    case_statuses = dict(Case.Status.choices)
    detail = url_pattern("applications:detail", UUID_SAMPLE)
    drafts: list[Draft] = []
    submitted: list[Submitted] = []
    for row in rows:
        service = (row["service__name_en"] if english else "") or row["service__name_de"]
        public_id = str(row["public_id"])
        what = "; ".join(
            f"{line.label}: {line.text}"
            for line in applied_for(service_slug=row["service__slug"], context=row["context"])
        )
        if row["status"] == Application.Status.DRAFT:
            drafts.append(
                Draft(
                    public_id=public_id,
                    service=service,
                    applied_for=what,
                    saved=_local(row["updated_at"], "%d.%m.%Y %H:%M"),
                    expires=_local(row["expires_at"], "%d.%m.%Y"),
                    continue_url=detail.format(public_id),
                    delete_url=reverse("applications:delete", args=[public_id]),
                    # as applications.services.offered_online, from the values read
                    offered=row["service__is_active"]
                    and row["service__online"]
                    and has_form_file(row["service__slug"]),
                )
            )
            continue
        case_status = row["case__status"]
        if case_status:
            label = CITIZEN_STATUS_LABELS.get(case_status, case_statuses.get(case_status))
        else:
            label = application_statuses.get(row["status"], row["status"])
        submitted.append(
            Submitted(
                url=detail.format(public_id),
                reference=row["reference"] or "",
                service=service,
                applied_for=what,
                submitted=_local(row["submitted_at"], "%d.%m.%Y %H:%M"),
                status=str(label),
            )
        )
    return ApplicationList(drafts=drafts, submitted=submitted)
