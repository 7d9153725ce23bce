"""The receipt (Eingangsbestätigung): a PDF/A of everything submitted, rendered in the background.

§ 9a Abs. 3 OZG: the citizen gets a copy of the declaration to keep. Rendering runs as a job on
the ``documents`` queue after the submission commits, so a slow or failing renderer never holds
up the submission itself; the job is retried until the receipt exists. The receipt carries a QR
code and short code and its SHA-256 is logged in GovChain (document type ``receipt``), in the
transaction that stores it: anyone can check it on ``/pruefen/``.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django_tasks import task

from rathaus.applications.case_files import file_in_case, submitted_attachments
from rathaus.applications.models import Application
from rathaus.applications.selectors import applied_for
from rathaus.catalog.form_schemas import form_schema_for_version
from rathaus.core import stored_files
from rathaus.core.jobs import queue_again, retrying_task
from rathaus.documents.letter import Recipient, Sender
from rathaus.documents.rendering import render_pdf
from rathaus.documents.verification import Verification
from rathaus.forms.display import describe_answers
from rathaus.forms.schema import FormSchema
from rathaus.ledger.issuing import issue_document
from rathaus.ledger.models import DocumentType
from rathaus.mailbox.services import deliver

logger = logging.getLogger(__name__)

#: A submitted application without a receipt this long after submission, and with no receipt job
#: waiting or running, lost its job (the process died between the commit and the queueing, a
#: worker was killed, or every attempt failed): ``queue_missing_receipts`` queues it again, up
#: to ``RECEIPT_MISSING_UNTIL`` after submission; older ones are left to the administration
#: (docs/operations.md).
RECEIPT_MISSING_AFTER = timedelta(minutes=15)
RECEIPT_MISSING_UNTIL = timedelta(days=7)


def _recipient(application: Application, *, schema: FormSchema | None = None) -> Recipient:
    """Whom the receipt is addressed to: the person who applied, by the first name the form
    asks as their own (a ``person_name`` field with ``autocomplete = "name"``, HTML spec) in the
    form's order, so the authorised person rather than the voter they apply for; otherwise the
    account's profile. Never by the answers' order, which PostgreSQL's ``jsonb`` does not keep.
    ``schema``: the form the declaration was submitted with, if the caller has it at hand."""
    data = application.submitted_data or {}
    if schema is None:
        schema = form_schema_for_version(application.service, application.schema_hash)
    profile = getattr(application.applicant, "profile", None)
    name = ""
    for item in schema.all_fields():
        value = data.get(item.id)
        if item.type == "person_name" and item.autocomplete == "name" and isinstance(value, dict):
            name = f"{value.get('given_names') or ''} {value.get('family_name') or ''}".strip()
            if name:
                break
    if not name and profile is not None:
        name = f"{profile.given_names} {profile.family_name}".strip()
    lines: tuple[str, ...] = ()
    if profile is not None and profile.street:
        lines = (
            f"{profile.street} {profile.house_number}".strip(),
            f"{profile.postal_code} {profile.place}".strip(),
        )
    return Recipient(name_lines=(name or application.applicant.email,), address_lines=lines)


def receipt_language(application: Application) -> str:
    """The language the receipt is written in: the one the citizen chose in the profile, else
    the one of the pages they sent the application from, else German (the default)."""
    profile = getattr(application.applicant, "profile", None)
    for language in (getattr(profile, "preferred_language", ""), application.language):
        if language in dict(settings.LANGUAGES):
            return str(language)
    return str(settings.LANGUAGE_CODE)


def build_receipt(application: Application, *, verification: Verification | None = None) -> bytes:
    """Render the receipt PDF of a submitted application (with the verification mark if given)."""
    assert application.authority is not None and application.submitted_at is not None
    schema = form_schema_for_version(application.service, application.schema_hash)
    language = receipt_language(application)
    english = language == "en"
    service = application.service
    service_name = (service.name_en or service.name_de) if english else service.name_de
    sender = Sender.from_authority(application.authority)
    with translation.override(language):  # the answers as the citizen reads them
        applied_for_lines = applied_for(
            service_slug=application.service.slug, context=application.context
        )
        sections = describe_answers(schema, application.submitted_data or {})
        attachments = submitted_attachments(application, schema=schema)
    return render_pdf(
        template="applications/receipt.html",
        context={
            "sender": sender,
            "recipient": _recipient(application, schema=schema),
            "reference": application.reference,
            "date": timezone.localdate(application.submitted_at),
            "subject": f"Receipt: {service_name}"
            if english
            else f"Eingangsbestätigung: {service_name}",
            "service_name": service_name,
            "submitted_at": timezone.localtime(application.submitted_at),
            "confirmed_at": timezone.localtime(
                application.declaration_confirmed_at or application.submitted_at
            ),
            "applied_for": applied_for_lines,
            "sections": sections,
            "attachments": attachments,
            "verification": verification,
        },
        language=language,
        # the title a viewer shows (DisplayDocTitle) and the subject in the receipt's language
        title=f"Receipt {application.reference}"
        if english
        else f"Eingangsbestätigung {application.reference}",
        author=sender.display_name,
        subject=service_name,
        created=application.submitted_at,
    )


#: Applications that reached the authority, so the citizen gets their receipt (§ 9a Abs. 3 OZG).
RECEIPT_DUE = (Application.Status.SUBMITTED, Application.Status.WITHDRAWN)


@retrying_task(queue_name="documents", max_attempts=6, base_delay=timedelta(seconds=10))
def render_receipt(application_id: int) -> str:
    """Job: render and store the receipt once; a second run finds it and does nothing.

    The stored PDF (the whole declaration) is deleted again if the transaction fails, so a
    failing attempt leaves no file behind that nothing refers to; once it has committed, the
    file is the row's, whatever fails after (a hook of the Postfach delivery, say).
    """
    written: list[str] = []
    committed: list[bool] = []
    try:
        return _render_receipt(application_id, written, committed)
    except BaseException:
        if not committed:
            for name in written:
                _delete_receipt_file(name)
        raise


def _render_receipt(application_id: int, written: list[str], committed: list[bool]) -> str:
    with transaction.atomic():
        stored_files.note_commit(committed)  # first, before any hook that may fail
        # Read once, locked, with everything the receipt, the E-Akte and the Postfach need. The
        # PDF is rendered under the lock: the log entry exists if and only if the stored receipt
        # does, and a second worker waits here and then finds the receipt.
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related(
                "service", "authority__municipality", "applicant__profile", "case__file"
            )
            # withdrawn at once (before this job ran): it was sent, its receipt is still due
            .filter(pk=application_id, status__in=RECEIPT_DUE)
            # a purged application's receipt was deleted with the declaration it listed
            .filter(purged_on__isnull=True)
            .first()
        )
        if application is None:
            return "gone"
        if application.receipt:
            return "exists"
        assert application.authority is not None
        issued = issue_document(
            render=lambda verification: build_receipt(application, verification=verification),
            document_type=DocumentType.RECEIPT,
            authority=application.authority,
        )
        pdf = issued.pdf
        application.receipt.save(f"{application.reference}.pdf", ContentFile(pdf), save=False)
        written.append(application.receipt.name)
        application.receipt_sha256 = hashlib.sha256(pdf).hexdigest()
        application.save(update_fields=["receipt", "receipt_sha256", "updated_at"])
        # A case file closed before this job ran (a backlog) takes no documents: the citizen
        # still gets the receipt and the Postfach copy (§ 9a Abs. 3 OZG); logged by file_in_case.
        file_in_case(
            application,
            title="Eingangsbestätigung",
            kind="application",
            name=f"Eingangsbestaetigung-{application.reference}.pdf",
            content_type="application/pdf",
            data=pdf,
        )
        _deliver_to_mailbox(application, pdf)
    logger.info(
        "receipt stored",
        extra={"application": application_id, "bytes": len(pdf), "code": issued.code},
    )
    return "stored"


def _delete_receipt_file(name: str) -> None:
    """Delete a receipt file whose transaction rolled back (the row does not name it)."""
    try:
        Application._meta.get_field("receipt").storage.delete(name)
    except OSError:
        logger.exception("receipt file of a failed attempt not deleted", extra={"file": name})


def _deliver_to_mailbox(application: Application, pdf: bytes) -> None:
    """§ 9a Abs. 3 OZG: the copy goes to the citizen's Postfach too (no legal effect)."""
    language = receipt_language(application)
    english = language == "en"
    service_name = application.service.name_en if english else application.service.name_de
    deliver(
        owner=application.applicant,
        kind="receipt",
        subject=(f"Receipt: {service_name}" if english else f"Eingangsbestätigung: {service_name}"),
        body=(
            f"We have received your application {application.reference}. "
            "The receipt with everything you declared is attached."
            if english
            else f"Wir haben Ihren Antrag {application.reference} erhalten. "
            "Die Eingangsbestätigung mit allen Ihren Angaben finden Sie im Anhang."
        ),
        attachments=[(f"Eingangsbestaetigung-{application.reference}.pdf", "application/pdf", pdf)],
        application_id=application.pk,
        case_number=getattr(getattr(application, "case", None), "number", "") or "",
        authority=application.authority,
        language=language,
    )


@task(queue_name="documents")
def queue_missing_receipts() -> int:
    """Periodic: queue the receipt job again for submitted applications whose job was lost;
    returns how many. Safe to repeat: :func:`render_receipt` finds a stored receipt and stops."""
    now = timezone.now()
    missing = Application.objects.filter(
        status__in=RECEIPT_DUE,
        purged_on__isnull=True,
        receipt="",
        submitted_at__lte=now - RECEIPT_MISSING_AFTER,
        submitted_at__gte=now - RECEIPT_MISSING_UNTIL,
    ).values_list("pk", flat=True)
    return queue_again(render_receipt, missing, lost_after=RECEIPT_MISSING_AFTER)
