"""Writes of the portal shell."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from rathaus.core.audit import record
from rathaus.portal.models import AccessibilityFeedback

logger = logging.getLogger(__name__)


def submit_accessibility_feedback(
    *,
    actor: Any,
    name: str,
    email: str,
    message: str,
    page_url: str,
    language: str,
) -> AccessibilityFeedback:
    """Store a reported barrier and e-mail it to ``ACCESSIBILITY_FEEDBACK_EMAIL`` after commit."""
    with transaction.atomic():
        feedback = AccessibilityFeedback.objects.create(
            name=name,
            email=email,
            message=message,
            page_url=page_url,
            language=language,
            user=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record(actor=actor, action="accessibility_feedback.received", obj=feedback)
        transaction.on_commit(lambda: _notify_operator(feedback))
    return feedback


def erase_for_account_deletion(user: Any) -> None:
    """Account deletion (Art. 17 GDPR): the feedback sent from the account keeps no name, no
    e-mail address and no link to it. The message stays, answered or not: it describes a
    barrier of the site, which the operator must still be able to remove (§ 7 BITV 2.0).

    Audited without the person (the account's own deletion event names its number only)."""
    for feedback in AccessibilityFeedback.objects.filter(user_id=user.pk).order_by("pk"):
        feedback.name = ""
        feedback.email = ""
        feedback.user = None
        feedback.save(update_fields=["name", "email", "user"])
        record(
            actor=None,
            action="accessibility_feedback.anonymised",
            obj=feedback,
            after={"reason": "account deleted"},
        )


def _notify_operator(feedback: AccessibilityFeedback) -> None:
    recipient = settings.ACCESSIBILITY_FEEDBACK_EMAIL
    if not recipient:
        return
    with translation.override(settings.LANGUAGE_CODE):
        _send_notification(feedback, recipient)


def _send_notification(feedback: AccessibilityFeedback, recipient: str) -> None:
    body = "\n".join(
        [
            _("A barrier was reported through the accessibility statement."),
            "",
            f"{_('Page')}: {feedback.page_url or '-'}",
            f"{_('Name')}: {feedback.name or '-'}",
            f"{_('E-mail address')}: {feedback.email or '-'}",
            f"{_('Language')}: {feedback.language or '-'}",
            "",
            feedback.message,
            "",
            _("Please answer within one month (§ 7 BITV 2.0). Reference: %(id)s")
            % {"id": feedback.pk},
        ]
    )
    try:
        send_mail(
            subject=_("Accessibility feedback #%(id)s") % {"id": feedback.pk},
            message=body,
            from_email=None,
            recipient_list=[recipient],
            fail_silently=False,
        )
    except Exception:
        # The feedback is stored; operators see it in the admin even if mail is down.
        logger.exception("Could not e-mail accessibility feedback %s", feedback.pk)
