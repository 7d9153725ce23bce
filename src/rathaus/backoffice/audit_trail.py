"""The audit trail of one case: every event ``core.audit`` holds about the case and the objects
that belong to it, whichever module wrote it, oldest first.

Besides the case itself (casework) that is its notices, requests, notes and postal tasks; its
application and the payments for it (applications, payments); its E-Akte with its documents,
versions and legal holds (records); its Postfach messages in both directions (mailbox: by the
case number at the case's authority, and the receipt by the application's id); and the
GovChain entries of its notices (ledger). Events about several files at once (a disposal run
names other cases' files) are not shown here.

Two queries whatever the number of events: one ``UNION`` reads the ids of the objects that
belong to the case, one reads their events through the index over object type and id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db.models import CharField, Model, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rathaus.applications.models import Application
from rathaus.applications.services import PAYABLE_TYPE
from rathaus.casework.models import Case, CaseNote, DocumentRequest, Notice, PostalDeliveryTask
from rathaus.core.models import AuditEvent
from rathaus.ledger.models import Entry
from rathaus.mailbox.models import Message
from rathaus.payments.models import PaymentStatus, PaymentTransaction
from rathaus.records.models import DocumentVersion, File, LegalHold, RecordDocument

#: What each action means, for the clerk; an action not listed is shown by its code alone.
ACTION_LABELS: dict[str, Promise] = {
    # casework
    "case.opened": _("Case opened"),
    "case.status_changed": _("Status changed"),
    "case.assigned": _("Assigned"),
    "case.assignee_left_unit": _("Clerk left the unit"),
    "case.note_added": _("Note added"),
    "case.document_added": _("Internal document added"),
    "case.documents_requested": _("Documents requested"),
    "case.documents_received": _("Documents received"),
    "case.request_cancelled": _("Request for documents withdrawn"),
    "case.due_date_set": _("Due date changed"),
    "case.reply_received": _("Reply from the citizen"),
    "case.notice_drafted": _("Notice drafted"),
    "case.notice_updated": _("Notice draft saved"),
    "case.notice_discarded": _("Notice draft discarded"),
    "case.notice_submitted": _("Notice submitted for approval"),
    "case.notice_approved": _("Notice approved"),
    "case.notice_returned": _("Notice returned to the drafter"),
    "case.notice_issued": _("Notice issued"),
    "case.notice_posted": _("Notice sent by post"),
    "case.postal_delivery_cancelled": _("Delivery by post cancelled"),
    "case.notice_revocation_requested": _("Revocation of the notice requested"),
    "case.notice_revocation_rejected": _("Revocation of the notice rejected"),
    "case.notice_revoked": _("Notice revoked"),
    "case.revocation_issued": _("Revocation issued"),
    "case.revocation_letter_to_post": _("Revocation letter to be sent by post"),
    "case.revocation_posted": _("Revocation letter sent by post"),
    "case.file_released_for_disposal": _("File released for disposal"),
    "case.purged": _("Case data purged"),
    # applications
    "application.started": _("Application started"),
    "application.step_saved": _("Application step saved"),
    "application.files_kept": _("Application step saved (files kept)"),
    "application.awaiting_payment": _("Application awaiting payment"),
    "application.submitted": _("Application submitted"),
    "application.withdrawn": _("Application withdrawn"),
    "application.unpaid_expired": _("Unpaid application expired"),
    "application.unpaid_withdrawn": _("Unpaid application withdrawn"),
    "application.purged": _("Application data purged"),
    "application.deleted_with_account": _("Application deleted with the account"),
    # payments
    "payment.created": _("Payment started"),
    "payment.registered": _("Payment registered with the provider"),
    f"payment.{PaymentStatus.INITIAL.lower()}": _("Payment open"),
    f"payment.{PaymentStatus.PAYED.lower()}": _("Payment received"),
    f"payment.{PaymentStatus.FAILED.lower()}": _("Payment failed"),
    f"payment.{PaymentStatus.CANCELED.lower()}": _("Payment cancelled"),
    f"payment.{PaymentStatus.ABANDONED.lower()}": _("Payment given up"),
    "payment.cash_reference_received": _("Payment reference (Kassenzeichen) received"),
    "payment.refund_due": _("Refund due"),
    "payment.refunded": _("Payment refunded"),
    "payment.payable_deleted": _("Matter paid for deleted"),
    # records (E-Akte)
    "records.file_opened": _("File opened"),
    "records.file_closed": _("File closed"),
    "records.file_reopened": _("File reopened"),
    "records.document_added": _("Document filed"),
    "records.version_added": _("Document version filed"),
    "records.archive_timestamp_renewed": _("Archive time stamp renewed"),
    "records.hold_placed": _("Legal hold placed"),
    "records.hold_released": _("Legal hold released"),
    "records.file_disposed": _("File disposed of"),
    # mailbox
    "mailbox.delivered": _("Message delivered to the Postfach"),
    "mailbox.notified": _("Citizen notified by e-mail"),
    "mailbox.first_retrieval": _("Message first opened by the citizen"),
    "mailbox.reply_received": _("Reply received in the Postfach"),
    "mailbox.archived": _("Message archived by the citizen"),
    "mailbox.unarchived": _("Message moved back to the inbox by the citizen"),
    # ledger (GovChain)
    "ledger.revoke": _("Revocation entered in the verification log"),
}


def _keys(objects: QuerySet[Any], model: type[Model]) -> QuerySet[Any]:
    """(object type, object id) of ``objects`` as ``core.audit.record`` writes them."""
    return (
        objects.order_by()
        .annotate(
            audit_type=Value(model._meta.label, output_field=CharField()),
            audit_id=Cast("pk", output_field=CharField()),
        )
        .values_list("audit_type", "audit_id")
    )


def _objects_of(case: Case) -> dict[str, list[str]]:
    """The ids of everything that belongs to ``case``, by object type (one query)."""
    application = Application.objects.filter(case=case)
    application_ids = application.annotate(key=Cast("pk", output_field=CharField())).values("key")
    notices = Notice.objects.filter(case=case)
    messages = Q(application_id__in=application_ids)
    if case.number:
        # case numbers are unique per authority, not across the installation
        messages |= Q(authority_id=case.authority_id, case_number=case.number)
    branches: Iterable[QuerySet[Any]] = (
        _keys(notices, Notice),
        _keys(DocumentRequest.objects.filter(case=case), DocumentRequest),
        _keys(CaseNote.objects.filter(case=case), CaseNote),
        _keys(PostalDeliveryTask.objects.filter(case=case), PostalDeliveryTask),
        _keys(application, Application),
        _keys(
            PaymentTransaction.objects.filter(
                payable_type=PAYABLE_TYPE, payable_id__in=application_ids
            ),
            PaymentTransaction,
        ),
        _keys(File.objects.filter(case=case), File),
        _keys(RecordDocument.objects.filter(file__case=case), RecordDocument),
        _keys(DocumentVersion.objects.filter(document__file__case=case), DocumentVersion),
        _keys(LegalHold.objects.filter(file__case=case), LegalHold),
        _keys(Message.objects.filter(messages), Message),
        _keys(
            Entry.objects.filter(code__in=notices.exclude(ledger_code="").values("ledger_code")),
            Entry,
        ),
    )
    first, *rest = branches
    ids: dict[str, list[str]] = defaultdict(list)
    ids[Case._meta.label].append(str(case.pk))
    for object_type, object_id in first.union(*rest, all=True):
        ids[object_type].append(object_id)
    return ids


def _object_label(object_type: str) -> str:
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def case_audit_events(case: Case) -> list[AuditEvent]:
    """The audit events about ``case`` and what belongs to it, oldest first, each with its
    ``label`` (what the action means) and ``object_label`` (the kind of object) for the page.

    For the clerk's audit trail; the caller has checked that the clerk may see the case.
    """
    condition = Q(pk__in=[])
    for object_type, object_ids in _objects_of(case).items():
        condition |= Q(object_type=object_type, object_id__in=object_ids)
    events = list(AuditEvent.objects.filter(condition).order_by("at", "id"))
    labels: dict[str, str] = {}
    for event in events:
        label = ACTION_LABELS.get(event.action)
        event.label = str(label) if label is not None else ""
        if event.object_type not in labels:
            labels[event.object_type] = _object_label(event.object_type)
        event.object_label = labels[event.object_type]
    return events
