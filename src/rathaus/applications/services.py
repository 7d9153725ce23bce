"""Writing applications: start a draft, save a step, submit (one transaction, idempotent)."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.accounts.models import User
from rathaus.accounts.personal_data import ErasureBlocked
from rathaus.applications.case_files import file_attachments
from rathaus.applications.errors import ApplicationError, AuditedRefusal
from rathaus.applications.models import Application, Attachment
from rathaus.applications.service_context import ContextRules
from rathaus.applications.service_rules import rules_for
from rathaus.applications.uploads import (
    delete_files_after_commit,
    delete_written,
    referenced_attachment_ids,
    schema_has_files,
    store_uploads,
)
from rathaus.casework.errors import CaseworkError
from rathaus.casework.services import open_case
from rathaus.catalog.form_schemas import (
    FormUnavailable,
    LoadedForm,
    current_form,
    has_form,
    store_form_version,
)
from rathaus.catalog.models import Responsibility, Service, TrustLevel
from rathaus.core import audit, stored_files
from rathaus.core.models import Municipality
from rathaus.core.sequences import next_value
from rathaus.forms.engine import StepResult, apply_step, next_step, validate_all, visible_steps
from rathaus.forms.field_types import Issue
from rathaus.forms.schema import FormSchema
from rathaus.payments.fees import (
    FeeCalculationError,
    FeeQuote,
    FeeRuleError,
    calculate_fee,
    format_cents,
    schedule_from_catalog,
)
from rathaus.payments.selectors import payable_state
from rathaus.payments.services import (
    PayableHasPayment,
    PaymentStart,
    close_payable,
    current_state,
    record_missing_payable,
    start_payment_for_quote,
)

logger = logging.getLogger(__name__)

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


class DeclarationChanged(ApplicationError):
    def __str__(self) -> str:
        return _(
            "Your application was changed after you reviewed it (for example in another "
            "window). Please check the declaration below again before you send it."
        )


class FeeChanged(DeclarationChanged):
    """The fee quoted now is not the one the review page showed: the authority changed its
    fee, or a fee that depends on the date changed at midnight. Nothing is charged unseen."""

    def __init__(self, quote: FeeQuote) -> None:
        super().__init__()
        self.quote = quote

    def __str__(self) -> str:
        quote = self.quote
        amount = format_cents(quote.total_cents)
        if quote.payable_online:
            now = _("It is now %(amount)s, to be paid online before your application is sent.")
        elif quote.total_cents:
            now = _("It is now %(amount)s, collected with the notice.")
        elif quote.set_in_notice:
            now = _("It is now set in the notice.")
        else:
            now = _("Your application is now free of charge.")
        return _(
            "The fee for your application changed after you reviewed it. %(now)s Please check "
            "the fees below again before you send your application."
        ) % {"now": now % {"amount": amount}}


class ServiceNotOffered(ApplicationError):
    """The service of a draft was switched off, or its form removed, after the draft began."""

    def __str__(self) -> str:
        return _(
            "This service is no longer offered online, so your draft can no longer be "
            "continued or sent. You can delete it under “My applications”."
        )


class DraftGone(ApplicationError):
    """The draft no longer exists: deleted in another window, or by the expiry job."""

    def __str__(self) -> str:
        return _(
            "This draft no longer exists: it was deleted, in another window or because it had "
            "not been saved for a long time."
        )


@dataclass(frozen=True)
class SubmissionIncomplete(ApplicationError):
    step_id: str

    def __str__(self) -> str:
        return _("Some answers are missing or no longer valid. Please check this step.")


def _digest(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def declaration_digest(answers: dict[str, Any]) -> str:
    """A fingerprint of the answers as the review page shows them (§ 9a OZG): the submission
    must be of exactly the declaration the citizen reviewed."""
    return _digest(answers)


def fee_digest(quote: FeeQuote) -> str:
    """A fingerprint of what a fee quote charges and when: the amounts and items, whether paid
    online before sending or with the notice. Not the items' labels, which follow the language."""
    return _digest(
        {
            "lines": [(line.id, line.quantity, line.unit_cents) for line in quote.lines],
            "collection": quote.collection.value,
            "currency": quote.currency,
            "set_in_notice": quote.set_in_notice,
            "notice_lines": len(quote.notice_lines),
            "payable_online": quote.payable_online,
        }
    )


def review_fingerprint(answers: dict[str, Any], quote: FeeQuote | None) -> str:
    """What the review page confirms (§ 9a OZG): the answers' fingerprint followed by the
    fee's (none if the fee could not be quoted; the page then cannot send)."""
    return declaration_digest(answers) + (fee_digest(quote) if quote is not None else "")


def _same(posted: str, expected: str) -> bool:
    return hmac.compare_digest(posted.encode("ascii", "replace"), expected.encode("ascii"))


def offered_online(service: Service) -> bool:
    """Whether drafts of ``service`` may be started, continued and sent: it is switched on, for
    online applications, and its form is deployed."""
    return service.is_active and service.online and has_form(service)


def draft_form(service: Service) -> LoadedForm:
    """The form a draft of ``service`` is filled in with, as deployed now; raises
    :class:`ServiceNotOffered` once the service is switched off or its form removed."""
    if not offered_online(service):
        raise ServiceNotOffered()
    try:
        return current_form(service)
    except FormUnavailable as exc:  # removed since has_form looked
        raise ServiceNotOffered() from exc


def draft_schema(service: Service) -> FormSchema:
    """The schema of :func:`draft_form`."""
    return draft_form(service).schema


def expiry_cutoff(now: datetime.datetime) -> datetime.datetime:
    """The start of ``now``'s day in the local time zone (``TIME_ZONE``, Europe/Berlin).

    Drafts and unpaid applications are shown as kept until, or payable by, the local date of
    their ``expires_at``; the citizen has that whole day, so they are deleted only once it has
    ended: when ``expires_at`` is before the start of the current local day."""
    local = timezone.localtime(now, timezone.get_default_timezone())
    return datetime.datetime.combine(local.date(), datetime.time.min, tzinfo=local.tzinfo)


def draft_days() -> int:
    """For how many calendar days after its last save a draft is kept."""
    return int(getattr(settings, "APPLICATION_DRAFT_DAYS", 30))


def unpaid_days() -> int:
    """For how many calendar days a sent application waits for its fee before it is deleted
    unsent."""
    return int(getattr(settings, "APPLICATION_UNPAID_DAYS", 30))


def expires_after(days: int, *, now: datetime.datetime) -> datetime.datetime:
    """The ``expires_at`` of something kept ``days`` calendar days from ``now``: the end of the
    local day (``TIME_ZONE``, Europe/Berlin) ``days`` days after ``now``'s local date.

    Counted on the local calendar, not as ``days`` times 24 hours, so a clock change in between
    neither takes a day away nor adds one; the local date of the result is the date shown
    ("aufbewahrt bis", "bis zum … bezahlt") and the last day kept (:func:`expiry_cutoff`)."""
    zone = timezone.get_default_timezone()
    last_day = timezone.localdate(now, zone) + datetime.timedelta(days=days)
    return datetime.datetime.combine(last_day, datetime.time.max, tzinfo=zone)


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


def _no_authority(municipality: Municipality) -> ApplicationError:
    return ApplicationError(
        _("No authority is responsible for this service in %(municipality)s yet.")
        % {"municipality": municipality.name}
    )


def start_application(
    *,
    applicant: User,
    service: Service,
    municipality: Municipality,
    trust_level: str,
    choice: str | None = None,
    start_key: str = "",
) -> Application:
    """Open a draft for ``service``, prefilled from the applicant's profile.

    ``choice``: the citizen's answer to the service's start question (which election a postal
    vote is for), None if not asked yet; raises ``ChoiceRequired`` while one is needed or the
    one given is not accepted (``service_context``).
    ``start_key``: the one-time key of the start page that sent this; the same key again (a
    double click, a reloaded POST) returns the application it opened instead of a second draft.
    Refused where no authority of ``municipality`` handles the service: the citizen learns so
    before filling in the form, not only when sending it.
    """
    if start_key and (opened := _started_with(applicant, start_key)) is not None:
        return opened
    if not service.is_active or not service.online or not has_form(service):
        raise ApplicationError(_("This service cannot be applied for online here."))
    if not trust_level_suffices(required=service.trust_level, reached=trust_level):
        raise TrustLevelTooLow(required=service.trust_level, reached=trust_level)
    if not Responsibility.objects.filter(service=service, municipality=municipality).exists():
        raise _no_authority(municipality)
    try:
        form = current_form(service)
    except FormUnavailable as exc:  # removed since has_form looked
        raise ApplicationError(_("This service cannot be applied for online here.")) from exc
    schema = form.schema
    application = Application(
        applicant=applicant,
        service=service,
        municipality=municipality,
        answers=prefill_answers(schema, applicant),
        current_step=schema.steps[0].id,
        schema_hash=form.digest,
        expires_at=expires_after(draft_days(), now=timezone.now()),
        start_key=start_key,
    )
    rules = rules_for(service.slug)
    if rules is not None:
        rules.on_start(application=application)
    if isinstance(rules, ContextRules):
        rules.choose(application=application, value=choice)
    try:
        with transaction.atomic():
            application.save()
            audit.record(
                actor=applicant,
                action="application.started",
                obj=application,
                after={
                    "service": service.slug,
                    "municipality": municipality.slug,
                    **({"context": application.context} if application.context else {}),
                },
                municipality=municipality,
            )
    except IntegrityError:
        # the same start key, sent twice at once: the other request's draft committed first
        if start_key and (opened := _started_with(applicant, start_key)) is not None:
            return opened
        raise
    return application


def _started_with(applicant: User, start_key: str) -> Application | None:
    return Application.objects.filter(applicant=applicant, start_key=start_key).first()


def save_step(*, application: Application, result: StepResult, actor: Any = None) -> str | None:
    """Keep a valid step's answers in the draft; returns the next step's id (None: review).

    The step is applied to the answers as stored when the row lock is taken, not as this request
    read them: a step saved in another tab meanwhile is kept, and so are its files.
    ``actor``: who saved it (by default the applicant, the only one who may).
    """
    schema = draft_schema(application.service)
    written: list[Attachment] = []
    committed: list[bool] = []
    try:
        with _still_a_draft(application, refusal=_frozen()):
            stored_files.note_commit(committed)
            _store_uploads(application, result, written)
            application.answers = apply_step(schema, application.answers, result)
            removed = _drop_unused_attachments(application, schema)
            following = next_step(schema, result.step.id, application.answers)
            application.current_step = following.id if following else ""
            application.expires_at = expires_after(draft_days(), now=timezone.now())
            application.save(update_fields=["answers", "current_step", "expires_at", "updated_at"])
            _audit_draft_change(
                application, "application.step_saved", result, written, removed, actor=actor
            )
    except BaseException:
        if not committed:
            delete_written(written)  # rolled back: no row refers to them
        raise
    return following.id if following else None


def resume_step(application: Application) -> str | None:
    """The step a draft continues at (None: the review page). Where the citizen left off, if the
    current form still shows that step; a form updated since may have removed or renamed it, or
    an answer changed may hide it: then the first step whose answers are missing or no longer
    valid, or the review page if there is none. Raises :class:`ServiceNotOffered` once the
    service is no longer offered online."""
    schema = draft_schema(application.service)
    if not application.current_step:  # every step answered
        return None
    if application.current_step in {step.id for step in visible_steps(schema, application.answers)}:
        return application.current_step
    first_invalid = validate_all(schema, application.answers).first_invalid_step
    return first_invalid.id if first_invalid else None


def warning_key(*, step_id: str, issue: Issue) -> str:
    """A short fingerprint of a warning on a step (which input, which message): the step page
    sends back those it has shown, so that the same warning is not shown twice."""
    plain = "\x1f".join((step_id, issue.name, issue.message))
    return hashlib.sha256(plain.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def unseen_warnings(*, result: StepResult, seen: Iterable[str]) -> list[Issue]:
    """The warnings of a step's answers the citizen has not been shown yet (``seen``: the keys
    of :func:`warning_key` the step page showed). They do not block the step (its answers are
    saved), but the step is shown once more with them before the citizen moves on, as
    ``docs/modules/forms.md`` asks: a second submit of the same answers continues."""
    known = set(seen)
    step_id = result.step.id
    return [w for w in result.warnings if warning_key(step_id=step_id, issue=w) not in known]


def keep_uploads(*, application: Application, result: StepResult, actor: Any = None) -> None:
    """Store the files accepted on a step that is shown again for errors in other answers.

    The browser does not send a file twice, so the citizen would have to choose it again; the
    step's other answers stay unsaved until they are correct.
    """
    if not any(result.uploads.values()):
        return
    schema = draft_schema(application.service)
    written: list[Attachment] = []
    committed: list[bool] = []
    try:
        with _still_a_draft(application, refusal=_frozen()):
            stored_files.note_commit(committed)
            fields = [field_id for field_id, uploads in result.uploads.items() if uploads]
            _store_uploads(application, result, written)
            application.answers = {
                **application.answers,
                **{field_id: result.cleaned[field_id] for field_id in fields},
            }
            removed = _drop_unused_attachments(application, schema)
            application.expires_at = expires_after(draft_days(), now=timezone.now())
            application.save(update_fields=["answers", "expires_at", "updated_at"])
            _audit_draft_change(
                application, "application.files_kept", result, written, removed, actor=actor
            )
    except BaseException:
        if not committed:
            delete_written(written)
        raise


def _store_uploads(application: Application, result: StepResult, written: list[Attachment]) -> None:
    """Store the step's new files; their descriptors join the kept ones in ``result.cleaned``."""
    stored = store_uploads(application=application, uploads=result.uploads, written=written)
    for field_id, descriptors in stored.items():
        result.cleaned[field_id] = list(result.cleaned.get(field_id) or []) + descriptors


def _drop_unused_attachments(application: Application, schema: FormSchema) -> list[str]:
    """Delete the files no answer refers to any more: removed by the citizen, or of a field or
    step that no longer applies after an earlier answer changed (they must not reach the
    authority). The stored files go once the deletion commits. Returns their SHA-256."""
    used = referenced_attachment_ids(schema, application.answers)
    unused = [a for a in application.attachments.all() if str(a.pk) not in used]
    if unused:
        delete_files_after_commit(unused)
        Attachment.objects.filter(pk__in=[a.pk for a in unused]).delete()
    return [a.sha256 for a in unused]


def _audit_draft_change(
    application: Application,
    action: str,
    result: StepResult,
    written: list[Attachment],
    removed: list[str],
    *,
    actor: Any,
) -> None:
    """The audit event of a saved step: which step, which files came and went (their SHA-256);
    not the answers, which stay in the draft (and go with it)."""
    audit.record(
        actor=actor if actor is not None else application.applicant,
        action=action,
        obj=application,
        after={
            "step": result.step.id,
            "files_added": [a.sha256 for a in written],
            "files_removed": removed,
        },
        municipality=application.municipality,
    )


def responsible_authority(application: Application) -> Responsibility | None:
    return (
        Responsibility.objects.select_related("authority__municipality")
        .filter(service_id=application.service_id, municipality_id=application.municipality_id)
        .first()
    )


def fee_quote(
    application: Application,
    *,
    responsibility: Responsibility | None = None,
    answers: Mapping[str, Any] | None = None,
) -> FeeQuote:
    """The fee for this application's answers (or ``answers``: the checked ones, which the
    submission charges for), from the catalog and the handling authority, as of today; once
    sent, the fee quoted at submission."""
    if application.fee_quote is not None:
        return FeeQuote.from_data(application.fee_quote)
    responsibility = responsibility or responsible_authority(application)
    try:
        schedule = schedule_from_catalog(
            fee_kind=application.service.fee_kind,
            fees=application.service.fees,
            local_fee=responsibility.local_fee if responsibility else None,
        )
        return calculate_fee(
            schedule,
            application.answers if answers is None else answers,
            on=timezone.localdate(),
        )
    except FeeCalculationError as exc:
        raise ApplicationError(
            _("The fee for your answers could not be calculated: %(reason)s") % {"reason": exc}
        ) from exc
    except FeeRuleError as exc:
        # The catalog's fee data cannot be used (an administrator's mistake): the citizen
        # learns the fee is unavailable, the operators find the cause in the log.
        logger.error("fees of %s cannot be quoted: %s", application.service.slug, exc)
        raise ApplicationError(
            _(
                "The fee for this service cannot be calculated at the moment. Please try again "
                "later or contact the responsible authority."
            )
        ) from exc


def _locked(application_id: int) -> Application:
    """The application, row-locked until the transaction ends, with what the hand-over reads
    (service, municipality, applicant) in the same query; only the application row is locked."""
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("service", "municipality", "applicant")
        .get(pk=application_id)
    )


class _RefusalsAudited(contextlib.AbstractContextManager[None]):
    """Record an :class:`AuditedRefusal` after the transaction that raised it is rolled back.

    A class, not ``@contextmanager``: that one writes ``__traceback__`` on the exception passing
    through, which the frozen dataclass errors of this module refuse."""

    def __init__(self, *, application: Application, actor: User) -> None:
        self.application = application
        self.actor = actor

    def __exit__(self, kind: object, refusal: BaseException | None, traceback: object) -> None:
        if isinstance(refusal, AuditedRefusal):
            audit.record(
                actor=self.actor,
                action=refusal.action,
                obj=self.application,
                after=refusal.details,
                municipality=self.application.municipality,
            )


def submit_application(
    *,
    application: Application,
    idempotency_key: str,
    confirmed: bool,
    actor: User,
    electronic_delivery: bool | None = None,
    reviewed: str | None = None,
    language: str = "",
) -> Application:
    """Freeze the declaration and hand it to the responsible authority, exactly once.

    § 9a OZG: only after the citizen reviewed the whole declaration and confirmed it. A repeated
    call (double click, retried request, a second browser tab) returns the same application.
    ``electronic_delivery=False`` records the citizen's opt-out of notices by retrieval from the
    mailbox (§ 9 Abs. 1 OZG); the notice then goes by post.
    Where the fee is paid online before submission, the frozen application waits for the payment
    (``AWAITING_PAYMENT``); :func:`complete_submission` hands it over once the payment is confirmed.
    ``reviewed``: the :func:`review_fingerprint` of the answers and the fee the review page
    showed; answers changed since (another tab saved a step) are refused with
    :class:`DeclarationChanged`, a fee quoted differently now (changed by the authority, or at
    midnight) with :class:`FeeChanged`. A service switched off since the draft began is refused
    with :class:`ServiceNotOffered`. ``language``: the language of the pages the citizen sent it
    from; the receipt is written in it unless the profile names a preferred language.
    """
    if not confirmed:
        raise ApplicationError(
            _("Please confirm that your information is correct and complete before sending.")
        )
    with _RefusalsAudited(application=application, actor=actor), transaction.atomic():
        try:
            locked = _locked(application.pk)
        except Application.DoesNotExist as exc:  # deleted in another tab, or expired
            raise DraftGone() from exc
        if locked.status in (Application.Status.SUBMITTED, Application.Status.AWAITING_PAYMENT):
            return locked
        if locked.status != Application.Status.DRAFT:
            raise ApplicationError(_("This application can no longer be submitted."))
        form = draft_form(locked.service)  # the service as it is now, read under the lock
        if reviewed is not None and not _same(reviewed[:32], declaration_digest(locked.answers)):
            raise DeclarationChanged()
        schema = form.schema
        checked = validate_all(schema, locked.answers)
        if not checked.is_valid:
            step = checked.first_invalid_step
            raise SubmissionIncomplete(step_id=step.id if step else schema.steps[0].id)
        rules = rules_for(locked.service.slug)
        if rules is not None:
            rules.before_submit(application=locked)
        responsibility = responsible_authority(locked)
        if responsibility is None:
            raise _no_authority(locked.municipality)
        quote = fee_quote(locked, responsibility=responsibility, answers=checked.cleaned)
        if reviewed is not None and not _same(reviewed[32:], fee_digest(quote)):
            raise FeeChanged(quote)
        locked.answers = checked.cleaned
        if schema_has_files(schema):
            # a file kept on a step shown again for errors may belong to a field that does not
            # apply (any more): it must not reach the authority's file or the receipt
            _drop_unused_attachments(locked, schema)
        # § 9a OZG: the declaration is shown later with the form version it was checked against.
        store_form_version(service=locked.service, form=form)
        locked.schema_hash = form.digest
        if electronic_delivery is not None:
            locked.electronic_delivery = electronic_delivery
        locked.language = language[:2]
        now = timezone.now()
        locked.authority = responsibility.authority
        locked.declaration_confirmed_at = now
        locked.submitted_data = checked.cleaned
        locked.idempotency_key = idempotency_key
        locked.fee_quote = quote.to_data()
        # Waiting for the fee it never reached the authority: unpaid, it goes after a while.
        locked.expires_at = expires_after(unpaid_days(), now=now) if quote.payable_online else None
        year = timezone.localdate(now).year
        locked.reference = f"A-{year}-{next_value(f'application-reference-{year}'):06d}"
        if quote.payable_online:
            locked.status = Application.Status.AWAITING_PAYMENT
            locked.save()
            audit.record(
                actor=actor,
                action="application.awaiting_payment",
                obj=locked,
                before={"status": Application.Status.DRAFT},
                after={
                    "status": locked.status,
                    "reference": locked.reference,
                    "fee_cents": quote.total_cents,
                },
                municipality=locked.municipality,
            )
        else:
            _hand_over(locked, actor=actor, before=Application.Status.DRAFT, schema=schema)
    return locked


def _hand_over(
    application: Application, *, actor: Any, before: str, schema: FormSchema | None = None
) -> None:
    """The application reaches the authority: submitted, timestamped, case opened (with its
    file), receipt queued — all in the caller's transaction. ``schema``: the form the
    declaration was checked against, if the caller has it at hand."""
    application.status = Application.Status.SUBMITTED
    application.submitted_at = timezone.now()
    application.expires_at = None  # the authority's record now, kept under its retention
    assert application.authority is not None  # set from the Responsibility at submission
    try:
        application.case = open_case(
            service=application.service,
            authority=application.authority,
            applicant=application.applicant,
            title=application.service.name_de,
            actor=actor,
            opened_at=application.submitted_at,
            particulars={**(application.submitted_data or {}), **_case_particulars(application)},
            electronic_delivery=application.electronic_delivery,
        )
    except CaseworkError as exc:
        raise ApplicationError(str(exc)) from exc
    application.save()
    file_attachments(application, schema=schema)
    audit.record(
        actor=actor,
        action="application.submitted",
        obj=application,
        before={"status": before},
        after={
            "status": application.status,
            "reference": application.reference,
            "authority": application.authority_id,
            "case": application.case.number if application.case else None,
            "electronic_delivery": application.electronic_delivery,
        },
        municipality=application.municipality,
    )
    application_id = application.pk
    transaction.on_commit(lambda: _queue_receipt(application_id))


def _case_particulars(application: Application) -> dict[str, Any]:
    """What the service's rules add to the case beside the answers (the chosen election)."""
    rules = rules_for(application.service.slug)
    context = application.context
    if not isinstance(context, dict) or not context or not isinstance(rules, ContextRules):
        return {}
    return rules.case_particulars(context=context)


def complete_submission(*, application_id: int, actor: Any = None) -> Application:
    """After the fee is paid: hand the waiting application over (idempotent)."""
    with transaction.atomic():
        locked = _locked(application_id)
        if locked.status == Application.Status.AWAITING_PAYMENT:
            _hand_over(locked, actor=actor, before=Application.Status.AWAITING_PAYMENT)
    return locked


def _queue_receipt(application_id: int) -> None:
    from rathaus.applications.receipts import render_receipt

    render_receipt.enqueue(application_id)


def _frozen() -> str:
    return _("This application has been submitted and can no longer change.")


@contextmanager
def _still_a_draft(application: Application, *, refusal: str) -> Iterator[None]:
    """A transaction in which ``application`` is row-locked and still a draft; otherwise raise
    :class:`ApplicationError` with ``refusal``, or :class:`DraftGone` if it no longer exists.
    Checked again under the lock: a submission in another tab (which takes the same lock) may
    have frozen it since this request read it, or a deletion (another tab, the expiry job)
    removed it. Its answers and current step are read again under the lock, as another tab may
    have saved a step since this request read them (before a slow upload was received and
    scanned)."""
    if not application.is_draft:
        raise ApplicationError(refusal)
    with transaction.atomic():
        fresh = (
            Application.objects.select_for_update()
            .filter(pk=application.pk)
            .values_list("answers", "current_step", "status")
            .first()
        )
        if fresh is None:
            raise DraftGone()
        if fresh[2] != Application.Status.DRAFT:
            raise ApplicationError(refusal)
        application.answers, application.current_step = fresh[0], fresh[1]
        yield


def _lock_draft(application_id: int, *, expired_before: datetime.datetime | None = None) -> bool:
    """Lock the application's row until the transaction ends; True if it is (still) a draft,
    and, with ``expired_before``, (still) expired by then."""
    drafts = Application.objects.select_for_update().filter(
        pk=application_id, status=Application.Status.DRAFT
    )
    if expired_before is not None:
        drafts = drafts.filter(expires_at__lt=expired_before)
    return drafts.values_list("pk", flat=True).first() is not None


def delete_expired_drafts(*, now: datetime.datetime | None = None) -> int:
    """Delete drafts past their expiry, with their files; returns how many were deleted. "Kept
    until" names the local date of the expiry, and the draft is kept that whole day
    (:func:`expiry_cutoff`). A file
    the storage does not delete is left pending (``uploads.delete_pending_files``) and does not
    hold up the other drafts."""
    cutoff = expiry_cutoff(now or timezone.now())
    count = 0
    expired = Application.objects.filter(status=Application.Status.DRAFT, expires_at__lt=cutoff)
    for application in expired.prefetch_related("attachments"):
        with transaction.atomic():
            if not _lock_draft(application.pk, expired_before=cutoff):
                continue  # submitted or saved again meanwhile
            delete_files_after_commit(application.attachments.all())
            audit.record(
                actor=None,
                action="application.draft_expired",
                obj=application,
                municipality=application.municipality,
            )
            application.delete()
            count += 1
    return count


def _payment_open() -> str:
    return _(
        "A payment for this application is still open at the payment provider. "
        "Finish or cancel it there; then you can withdraw the application."
    )


def discard_unpaid(
    *,
    application: Application,
    actor: Any,
    expired: bool = False,
    now: datetime.datetime | None = None,
) -> None:
    """Delete an application that waits for its fee: it never reached the authority. The
    citizen does so (withdrawing it), or the expiry job ``unpaid_days()`` calendar days after
    it was sent (``expired``). Its files go with it; its reference number is never given again.

    Refused while a payment is open at the provider (the citizen may still pay) and once the
    fee is paid (then it is handed over instead). An attempt the provider still reports open
    ``PAYMENTS_ATTEMPT_ABANDON_HOURS`` after it was started is given up by ``current_state``
    and no longer counts as open; a capture the provider reports after the deletion is kept by
    ``payments`` for a refund (``close_payable``).
    """
    state = current_state(payable_type=PAYABLE_TYPE, payable_id=str(application.pk), now=now)
    if state.paid:
        complete_submission(application_id=application.pk, actor=actor)
        raise ApplicationError(_("Your fee has been paid; the application has been sent."))
    if state.open_transaction is not None:
        raise ApplicationError(_payment_open())
    with transaction.atomic():
        locked = (
            Application.objects.select_for_update()
            .filter(pk=application.pk, status=Application.Status.AWAITING_PAYMENT)
            .first()
        )
        if locked is None:
            raise ApplicationError(_("This application is no longer waiting for payment."))
        # again under the lock, and under the payments' lock: a confirmation in the meantime
        # hands it over (the signal's receiver waits for this lock), a payment started in
        # another tab keeps it
        try:
            close_payable(payable_type=PAYABLE_TYPE, payable_id=str(locked.pk), actor=actor)
        except PayableHasPayment as exc:
            if exc.paid:
                raise ApplicationError(
                    _("Your fee has been paid; the application has been sent.")
                ) from exc
            raise ApplicationError(_payment_open()) from exc
        delete_files_after_commit(locked.attachments.all())
        audit.record(
            actor=actor,
            action="application.unpaid_expired" if expired else "application.unpaid_withdrawn",
            obj=locked,
            before={"status": locked.status, "reference": locked.reference},
            municipality=locked.municipality,
        )
        locked.delete()


def delete_expired_unpaid(*, now: datetime.datetime | None = None) -> int:
    """Delete applications whose fee was not paid in time (see :func:`discard_unpaid`): by the
    end of the local date the application's page names (:func:`expiry_cutoff`); returns how
    many. One with a payment still open waits for the next run."""
    now = now or timezone.now()
    count = 0
    expired = Application.objects.filter(
        status=Application.Status.AWAITING_PAYMENT, expires_at__lt=expiry_cutoff(now)
    )
    for application in expired.order_by("pk"):
        try:
            discard_unpaid(application=application, actor=None, expired=True, now=now)
        except ApplicationError as exc:
            logger.info(
                "unpaid application kept",
                extra={"application": application.pk, "reason": str(exc)[:200]},
            )
            continue
        count += 1
    return count


def delete_draft(*, application: Application, actor: User) -> None:
    """The citizen discards a draft; its files go with it."""
    with _still_a_draft(application, refusal=_("A submitted application cannot be deleted.")):
        delete_files_after_commit(application.attachments.all())
        audit.record(
            actor=actor,
            action="application.draft_deleted",
            obj=application,
            municipality=application.municipality,
        )
        application.delete()


PAYABLE_TYPE = "applications.application"


def start_fee_payment(*, application: Application, actor: User) -> PaymentStart:
    """Send the citizen to the provider's payment page (or report it paid already).

    The fee goes to the treasury of the authority that handles the application. Raises
    ``PaymentError`` with a message for the citizen when the provider cannot be reached.
    """
    no_payment = _("No payment is due for this application.")
    if application.status != Application.Status.AWAITING_PAYMENT or application.authority is None:
        raise ApplicationError(no_payment)
    quote = fee_quote(application)
    if not quote.payable_online:  # sent before fees were kept with the application
        raise ApplicationError(no_payment)
    start = start_payment_for_quote(
        municipality=application.authority.municipality,
        payable_type=PAYABLE_TYPE,
        payable_id=str(application.pk),
        quote=quote,
        purpose=application.reference or "",
        description=application.service.name_de,
        return_url=f"/antraege/{application.public_id}/",
        case_reference=application.reference or "",
        actor=actor,
    )
    if start.already_paid:
        complete_submission(application_id=application.pk, actor=actor)
    return start


def on_payment_confirmed(*, payable_type: str, payable_id: str, **_: Any) -> None:
    """Receiver of ``payments.signals.payment_confirmed``: the paid application goes out.

    A payment for an application that no longer exists never undoes the recorded payment: it
    is kept for a refund (audited, listed in the payments admin under "refund due"). One
    deleted unpaid by :func:`discard_unpaid` is marked so by ``payments`` itself and never
    reaches this receiver; this catches one deleted otherwise.
    """
    if payable_type != PAYABLE_TYPE:
        return
    known = payable_id.isascii() and payable_id.isdigit() and len(payable_id) <= 18
    if not known or not Application.objects.filter(pk=int(payable_id)).exists():
        logger.error("payment confirmed for an unknown application", extra={"payable": payable_id})
        record_missing_payable(payable_type=payable_type, payable_id=payable_id)
        return
    complete_submission(application_id=int(payable_id))


def hand_over_paid() -> int:
    """Periodic catch-up: applications still waiting for a payment that is confirmed go out now
    (the payment signal's receiver failed, say because no authority could open the case then);
    returns how many were handed over. Safe to repeat: :func:`complete_submission` is
    idempotent. An application that fails (for whatever reason) is logged and tried again on
    the next run; the others still go out."""
    handed_over = 0
    waiting = Application.objects.filter(status=Application.Status.AWAITING_PAYMENT)
    for application_id in waiting.values_list("pk", flat=True).order_by("pk"):
        state = payable_state(payable_type=PAYABLE_TYPE, payable_id=str(application_id))
        if not state.paid:
            continue
        try:
            done = complete_submission(application_id=application_id)
        except ApplicationError as exc:
            logger.error(
                "paid application still not handed over",
                extra={"application": application_id, "reason": str(exc)[:500]},
            )
            continue
        except Exception:  # one application's fault never holds up the others' hand-over
            logger.exception(
                "paid application could not be handed over", extra={"application": application_id}
            )
            continue
        handed_over += done.status == Application.Status.SUBMITTED
    return handed_over


def erase_for_account_deletion(user: User) -> None:
    """Account deletion (GDPR Art. 17): drafts go; submitted applications are the authority's
    records under retention rules (Art. 17 Abs. 3 lit. b), so they block the deletion, until
    their file has been disposed of and they are purged (``applications.disposal``): then they
    hold no personal data and no stored file and go with the account (the purged case stays,
    and so do the payments booked on them, which are not linked to the row)."""
    for unpaid in Application.objects.filter(
        applicant=user, status=Application.Status.AWAITING_PAYMENT
    ):
        # never reached the authority; refused (kept, and blocking below) while a payment is
        # open at the provider or once it is paid
        with contextlib.suppress(ApplicationError):
            discard_unpaid(application=unpaid, actor=user)
    kept = (
        Application.objects.filter(applicant=user)
        .exclude(status=Application.Status.DRAFT)
        .exclude(
            Q(purged_on__isnull=False, receipt="")
            & ~Exists(Attachment.objects.filter(application=OuterRef("pk")))
        )
    )
    if kept.exists():
        raise ErasureBlocked(
            _(
                "You have sent applications that the authority must keep. Your account can be "
                "deleted once they are closed; until then, please contact the authority."
            )
        )
    for draft in Application.objects.filter(applicant=user, status=Application.Status.DRAFT):
        delete_draft(application=draft, actor=user)
    for purged in Application.objects.filter(applicant=user).exclude(purged_on=None):
        audit.record(
            actor=user,
            action="application.deleted_with_account",
            obj=purged,
            before={"reference": purged.reference, "purged_on": str(purged.purged_on)},
            municipality=purged.municipality,
        )
        purged.delete()
