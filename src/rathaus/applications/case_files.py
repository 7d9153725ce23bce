"""What the application contributes to the case's electronic file (E-Akte): the uploaded
evidence at submission and the receipt (the declaration as PDF/A) once it is rendered."""

from __future__ import annotations

from rathaus.applications.models import Application
from rathaus.records import services as records


def file_in_case(
    application: Application, *, title: str, kind: str, name: str, content_type: str, data: bytes
) -> None:
    """Add one document to the file of the application's case (none: nothing to do)."""
    case = application.case
    if case is None or case.file is None:
        return
    records.add_document(
        file=case.file,
        title=title,
        kind=kind,
        content=data,
        original_name=name,
        content_type=content_type,
        actor=application.applicant,
    )


def file_attachments(application: Application) -> None:
    """The files the citizen uploaded with the application, into the case's file."""
    for attachment in application.attachments.all():
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
