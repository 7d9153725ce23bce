"""What a failed e-mail delivery may say about itself in logs, job results and stored fields.

A refused recipient's address is personal data: ``SMTPRecipientsRefused`` holds the addresses,
and a server's reply text may repeat them. :func:`failure_summary` keeps the exception's class
and the SMTP codes (or the network error's number) only; :class:`MailNotSent` carries that
summary, raised ``from None`` so no log line or stored traceback holds the original.
"""

from __future__ import annotations

import smtplib


class MailNotSent(Exception):
    """A mail did not go out; the text is :func:`failure_summary` of the cause."""


def failure_summary(failure: BaseException) -> str:
    """What went wrong sending, without the recipient's address: the exception's class and the
    SMTP reply codes, or the error number of a network failure (``ConnectionRefusedError
    errno 111``). Never a message text: ``SMTPRecipientsRefused`` holds the refused addresses,
    and a server's reply text may repeat them."""
    kind = type(failure).__name__
    if isinstance(failure, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(reply[0]) for reply in failure.recipients.values()})
        return f"{kind} {' '.join(codes)}".strip()
    if isinstance(failure, smtplib.SMTPResponseException):
        return f"{kind} {failure.smtp_code}"
    if isinstance(failure, OSError) and isinstance(failure.errno, int):
        return f"{kind} errno {failure.errno}"
    return kind
