"""What the application contributes to the case's electronic file (E-Akte): the uploaded
evidence at submission and the receipt (the declaration as PDF/A) once it is rendered."""

from __future__ import annotations

import logging

from rathaus.applications.models import Application, Attachment
from rathaus.applications.uploads import referenced_attachment_ids
from rathaus.catalog.form_schemas import form_schema_for_version
from rathaus.forms.schema import FormSchema
from rathaus.records import services as records

logger = logging.getLogger(__name__)


def file_in_case(
    application: Application, *, title: str, kind: str, name: str, content_type: str, data: bytes
) -> bool:
    """Add one document to the file of the application's case; False if it was not filed: no
    case or file, or the file is closed already (the E-Akte takes no new documents then; the
    caller still gives the citizen what is theirs)."""
    case = application.case
    if case is None or case.file is None:
        return False
    if case.file.is_closed:
        logger.warning(
            "case file closed; document not filed",
            extra={
                "application": application.pk,
                "file": case.file.reference,
                "document": title,
            },
        )
        return False
    records.add_document(
        file=case.file,
        title=title,
        kind=kind,
        content=data,
        original_name=name,
        content_type=content_type,
        actor=application.applicant,
    )
    return True


def submitted_attachments(
    application: Application, *, schema: FormSchema | None = None
) -> list[Attachment]:
    """The files the submitted declaration refers to (none: no query). An attachment no answer
    of ``submitted_data`` names (a file of a field that did not apply) is not part of it.
    ``schema``: the form version of the declaration, if the caller has it at hand."""
    if schema is None:
        schema = form_schema_for_version(application.service, application.schema_hash)
    used = referenced_attachment_ids(schema, application.submitted_data or {})
    if not used:
        return []
    return [a for a in application.attachments.all() if str(a.pk) in used]


def file_attachments(application: Application, *, schema: FormSchema | None = None) -> None:
    """The files the citizen uploaded with the declaration, into the case's file."""
    for attachment in submitted_attachments(application, schema=schema):
        with attachment.file.open("rb") as handle:
            data = handle.read()
        file_in_case(
            application,
            title=attachment.original_name,
            kind="upload",
            name=attachment.original_name,
            content_type=attachment.content_type,
            data=data,
        )
