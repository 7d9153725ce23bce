"""The e-mail that tells a citizen a message is waiting in the Postfach.

§ 9 Abs. 1 OZG requires the notification at the latest on the day of provision. The e-mail never
carries the message's content, subject or attachments: only that something is waiting and where,
and for a notice the day it counts as announced (the date stored at provision, never one computed
from today's setting) and the provision that says so. It is written in the citizen's language, as
HTML and plain text: the one chosen in the profile (Profile.preferred_language); without a choice
the one the application was sent in, as its receipt tells (``selectors.receipt_language``), else
the message's own, else German.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from rathaus.mailbox.announcement import announcement_rule
from rathaus.mailbox.models import Message
from rathaus.mailbox.selectors import receipt_language
from rathaus.mailbox.services import announcement_date

FALLBACK_LANGUAGE = "de"


def recipient_language(message: Message) -> str:
    languages = dict(settings.LANGUAGES)
    chosen = getattr(getattr(message.owner, "profile", None), "preferred_language", "")
    if chosen in languages:
        return str(chosen)
    for language in (receipt_language(message), message.language):
        if language in languages:
            return language
    return FALLBACK_LANGUAGE


def mailbox_url() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("mailbox:inbox")


def build_notification(message: Message, *, to: str) -> EmailMultiAlternatives:
    """The notification e-mail for ``message`` to the owner's confirmed address ``to`` (not
    sent)."""
    language = recipient_language(message)
    rule = announcement_rule(message.legal_basis)
    with translation.override(language):
        context = {
            "portal_name": settings.RATHAUS_PORTAL_NAME,
            "mailbox_url": mailbox_url(),
            # the day fixed when it was made available (or by an earlier first retrieval)
            "announced_on": announcement_date(message),
            "announcement_law": rule.citation,
            # a first retrieval may still make it earlier (§ 9 Abs. 1 OZG)
            "earlier_if_opened": rule.earlier_retrieval_counts
            and message.first_retrieved_at is None,
            "language": language,
        }
        subject = _("New message in your %(portal)s mailbox") % {
            "portal": settings.RATHAUS_PORTAL_NAME
        }
        text = render_to_string("mailbox/email/notification.txt", context)
        html = render_to_string("mailbox/email/notification.html", context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=get_connection(fail_silently=False),
        headers={"Auto-Submitted": "auto-generated", "Content-Language": language},
    )
    email.attach_alternative(html, "text/html")
    return email
