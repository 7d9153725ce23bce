"""Writing applications: start a draft, save a step, submit (one transaction, idempotent)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.accounts.models import User
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.applications.service_rules import rules_for
from rathaus.applications.uploads import store_uploads
from rathaus.catalog.form_schemas import form_schema, has_form
from rathaus.catalog.models import Responsibility, Service, TrustLevel
from rathaus.core import audit
from rathaus.core.models import Municipality
from rathaus.core.sequences import next_value
from rathaus.forms.engine import StepResult, apply_step, next_step, validate_all
from rathaus.forms.schema import FormSchema

TRUST_ORDER = [TrustLevel.LOW, TrustLevel.SUBSTANTIAL, TrustLevel.HIGH]


class TrustLevelTooLow(ApplicationError):
    def __init__(self, *, required: str, reached: str) -> None:
        self.required, self.reached = required, reached
        super().__init__(
            _(
                "This service needs identification at the trust level “%(required)s”. "
                "You are logged in at “%(reached)s”."
            )
            % {"required": TrustLevel(required).label, "reached": TrustLevel(reached).label}
        )


@dataclass(frozen=True)
class SubmissionIncomplete(ApplicationError):
    step_id: str

    def __str__(self) -> str:
        return _("Some answers are missing or no longer valid. Please check this step.")


def draft_lifetime() -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, "APPLICATION_DRAFT_DAYS", 30))


def trust_level_suffices(*, required: str, reached: str) -> bool:
    return TRUST_ORDER.index(TrustLevel(reached)) >= TRUST_ORDER.index(TrustLevel(required))


def prefill_answers(schema: FormSchema, user: User) -> dict[str, Any]:
    """Answers known from the profile, matched by the fields' autocomplete tokens (HTML spec)."""
    profile = getattr(user, "profile", None)
    known: dict[tuple[str, str], Any] = {("email", "email"): user.email}
    if profile is not None:
        if profile.given_names or profile.family_name:
            known[("person_name", "name")] = {
                "given_names": profile.given_names,
                "family_name": profile.family_name,
            }
        if profile.birth_date:
            known[("date", "bday")] = profile.birth_date.isoformat()
        if profile.street and profile.postal_code and profile.place:
            address = {
                "street": profile.street,
                "house_number": profile.house_number,
                "postal_code": profile.postal_code,
                "place": profile.place,
            }
            known[("address", "street-address")] = address
            known[("address", "address")] = address
        if profile.phone:
            known[("phone", "tel")] = profile.phone
    answers: dict[str, Any] = {}
    for item in schema.all_fields():
        value = known.get((item.type, item.autocomplete or ""))
        if value is not None:
            answers[item.id] = value
    return answers


def start_application(
    *, applicant: User, service: Service, municipality: Municipality, trust_level: str
) -> Application:
    """Open a draft for ``service``, prefilled from the applicant's profile."""
    if not service.online or not has_form(service):
        raise ApplicationError(_("This service cannot be applied for online here."))
    if not trust_level_suffices(required=service.trust_level, reached=trust_level):
        raise TrustLevelTooLow(required=service.trust_level, reached=trust_level)
    schema, digest = form_schema(service)
    application = Application(
        applicant=applicant,
        service=service,
        municipality=municipality,
        answers=prefill_answers(schema, applicant),
        current_step=schema.steps[0].id,
        schema_hash=digest,
        expires_at=timezone.now() + draft_lifetime(),
    )
    rules = rules_for(service.slug)
    if rules is not None:
        rules.on_start(application=application)
    with transaction.atomic():
        application.save()
        audit.record(
            actor=applicant,
            action="application.started",
            obj=application,
            after={"service": service.slug, "municipality": municipality.slug},
            municipality=municipality,
        )
    return application


def save_step(*, application: Application, result: StepResult) -> str | None:
    """Keep a valid step's answers in the draft; returns the next step's id (None: review)."""
    if not application.is_draft:
        raise ApplicationError(_("This application has been submitted and can no longer change."))
    schema, _digest = form_schema(application.service)
    with transaction.atomic():
        for field_id, uploads in result.uploads.items():
            kept = list(result.cleaned.get(field_id) or [])
            stored = store_uploads(application=application, field_id=field_id, uploads=uploads)
            if kept or stored:
                result.cleaned[field_id] = kept + stored
        _drop_removed_attachments(application, result)
        application.answers = apply_step(schema, application.answers, result)
        following = next_step(schema, result.step.id, application.answers)
        application.current_step = following.id if following else ""
        application.expires_at = timezone.now() + draft_lifetime()
        application.save(update_fields=["answers", "current_step", "expires_at", "updated_at"])
    return following.id if following else None


def _drop_removed_attachments(application: Application, result: StepResult) -> None:
    """Delete the files of this step that the citizen removed from their answers."""
    for item in result.step.fields:
        if item.type != "file":
            continue
        kept = {str(d.get("id")) for d in result.cleaned.get(item.id) or []}
        for attachment in application.attachments.filter(field_id=item.id):
            if str(attachment.pk) not in kept:
                attachment.file.delete(save=False)
                attachment.delete()


def responsible_authority(application: Application) -> Responsibility | None:
    return (
        Responsibility.objects.select_related("authority")
        .filter(service=application.service, municipality=application.municipality)
        .first()
    )


def submit_application(
    *, application: Application, idempotency_key: str, confirmed: bool, actor: User
) -> Application:
    """Freeze the declaration and hand it to the responsible authority, exactly once.

    § 9a OZG: only after the citizen reviewed the whole declaration and confirmed it. A repeated
    call (double click, retried request, a second browser tab) returns the same application.
    """
    if not confirmed:
        raise ApplicationError(
            _("Please confirm that your information is correct and complete before sending.")
        )
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status == Application.Status.SUBMITTED:
            return locked
        if locked.status != Application.Status.DRAFT:
            raise ApplicationError(_("This application can no longer be submitted."))
        schema, _digest = form_schema(locked.service)
        checked = validate_all(schema, locked.answers)
        if not checked.is_valid:
            step = checked.first_invalid_step
            raise SubmissionIncomplete(step_id=step.id if step else schema.steps[0].id)
        rules = rules_for(locked.service.slug)
        if rules is not None:
            rules.before_submit(application=locked)
        responsibility = responsible_authority(locked)
        if responsibility is None:
            raise ApplicationError(
                _("No authority is responsible for this service in %(municipality)s yet.")
                % {"municipality": locked.municipality.name}
            )
        now = timezone.now()
        locked.status = Application.Status.SUBMITTED
        locked.authority = responsibility.authority
        locked.submitted_at = now
        locked.declaration_confirmed_at = now
        locked.submitted_data = checked.cleaned
        locked.answers = checked.cleaned
        locked.idempotency_key = idempotency_key
        locked.expires_at = None
        year = timezone.localdate(now).year
        locked.reference = f"A-{year}-{next_value(f'application-reference-{year}'):06d}"
        locked.save()
        audit.record(
            actor=actor,
            action="application.submitted",
            obj=locked,
            before={"status": Application.Status.DRAFT},
            after={
                "status": locked.status,
                "reference": locked.reference,
                "authority": locked.authority_id,
            },
            municipality=locked.municipality,
        )
        transaction.on_commit(lambda: _queue_receipt(locked.pk))
    return locked


def _queue_receipt(application_id: int) -> None:
    from rathaus.applications.receipts import render_receipt

    render_receipt.enqueue(application_id)


def delete_expired_drafts(*, now: datetime.datetime | None = None) -> int:
    """Delete drafts past their expiry, with their files; returns how many were deleted."""
    now = now or timezone.now()
    count = 0
    expired = Application.objects.filter(status=Application.Status.DRAFT, expires_at__lt=now)
    for application in expired.prefetch_related("attachments"):
        with transaction.atomic():
            for attachment in application.attachments.all():
                attachment.file.delete(save=False)
            audit.record(
                actor=None,
                action="application.draft_expired",
                obj=application,
                municipality=application.municipality,
            )
            application.delete()
            count += 1
    return count


def delete_draft(*, application: Application, actor: User) -> None:
    """The citizen discards a draft; its files go with it."""
    if not application.is_draft:
        raise ApplicationError(_("A submitted application cannot be deleted."))
    with transaction.atomic():
        for attachment in application.attachments.all():
            attachment.file.delete(save=False)
        audit.record(
            actor=actor,
            action="application.draft_deleted",
            obj=application,
            municipality=application.municipality,
        )
        application.delete()
