"""allauth's account e-mails (confirmation links, password reset, notices of changes) leave the
request through the task queue.

The request renders the e-mail, in its own language and from objects only it has (the user, the
key, the link), and queues what is sent: subject, bodies, sender, recipients. The job hands it
to the SMTP server; when the server refuses or is unreachable the job is retried with backoff
(``rathaus.core.jobs``), so neither a mail server that is down nor a slow one holds or fails the
request. The job is queued after the commit of the transaction the e-mail is written in: a
sign-up that is rolled back sends nothing.

A queued e-mail carries a secret (the confirmation or reset link) in the job's arguments, which
``django_tasks_db`` keeps in its table with the result. So once a job has finished its row is
deleted (``forget_finished_jobs``); the row of the last failed attempt stays for the
administrator (status, error), with its arguments erased. The logs name the kind of e-mail,
the account and the e-mail's own id, never its content or address.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus

from rathaus.core.jobs import retrying_task
from rathaus.core.mail_errors import MailNotSent, failure_summary

logger = logging.getLogger(__name__)

#: Attempts to hand an account e-mail to the SMTP server, 30 s apart at first, doubling to an
#: hour at most: about five hours in all, well within the links' validity (three days).
MAIL_ATTEMPTS = 12
#: A job "running" this long died with its worker (sending takes seconds): its row is deleted.
LOST_AFTER = timedelta(days=1)
#: What a failed job's row keeps of its arguments.
ERASED: dict[str, Any] = {"args": [], "kwargs": {"erased": True}}


def queue(*, message: EmailMessage, kind: str, user_id: int | None) -> str:
    """Queue ``message`` (rendered, not sent) for sending once the current transaction commits;
    returns the e-mail's id that the log lines name. ``kind`` is allauth's template prefix."""
    if message.attachments:
        raise ValueError("account e-mails with attachments cannot be queued")
    mail = {
        "id": uuid.uuid4().hex,
        "kind": kind,
        "user": user_id,
        "subject": str(message.subject),
        "body": str(message.body),
        "subtype": message.content_subtype,
        "alternatives": [
            [str(content), str(mimetype)]
            for content, mimetype in getattr(message, "alternatives", [])
        ],
        "from_email": str(message.from_email),
        "to": [str(address) for address in message.to],
        "cc": [str(address) for address in message.cc],
        "bcc": [str(address) for address in message.bcc],
        "reply_to": [str(address) for address in message.reply_to],
        "headers": {str(name): str(value) for name, value in message.extra_headers.items()},
    }
    transaction.on_commit(lambda: _enqueue(mail))
    return str(mail["id"])


def _enqueue(mail: dict[str, Any]) -> None:
    """Queue the job. The request's work is committed by now: a queue that fails is logged,
    and the citizen asks for the e-mail again (a login of an unconfirmed account, "send the
    link again", another reset)."""
    try:
        send_account_mail.enqueue(mail)
    except Exception as exc:  # only its kind: a database's message may quote the row
        logger.error(
            "account mail not queued", extra={**_described(mail), "error": type(exc).__name__}
        )
        return
    logger.info("account mail queued", extra=_described(mail))


def _described(mail: dict[str, Any]) -> dict[str, Any]:
    """What a log line tells of a queued e-mail: never the content, nor the address."""
    return {"mail_kind": mail.get("kind"), "user": mail.get("user"), "mail_id": mail.get("id")}


def build_message(mail: dict[str, Any]) -> EmailMultiAlternatives:
    """The e-mail as the request rendered it, with an SMTP connection that reports failure."""
    message = EmailMultiAlternatives(
        subject=mail["subject"],
        body=mail["body"],
        from_email=mail["from_email"],
        to=mail["to"],
        cc=mail.get("cc") or None,
        bcc=mail.get("bcc") or None,
        reply_to=mail.get("reply_to") or None,
        headers=mail.get("headers") or None,
        connection=get_connection(fail_silently=False),
    )
    message.content_subtype = mail.get("subtype") or "plain"
    for content, mimetype in mail.get("alternatives") or []:
        message.attach_alternative(content, mimetype)
    return message


@retrying_task(
    queue_name="mail",
    max_attempts=MAIL_ATTEMPTS,
    base_delay=timedelta(seconds=30),
    max_delay=timedelta(hours=1),
)
def send_account_mail(mail: dict[str, Any]) -> str:
    """Job: hand the queued account e-mail to the SMTP server (retried when that fails)."""
    try:
        build_message(mail).send()
    except Exception as exc:  # refused, unreachable, timed out: retried later
        summary = failure_summary(exc)
        logger.warning("account mail not sent", extra={**_described(mail), "error": summary})
        # no chained cause: a refused recipient's address must reach neither the job's log
        # lines nor the traceback kept with its result
        raise MailNotSent(summary) from None
    logger.info("account mail sent", extra=_described(mail))
    return "sent"


def forget_finished_jobs(sender: Any, task_result: Any, **kwargs: Any) -> None:
    """``task_finished``: delete the rows of finished account-mail jobs, erase the arguments of
    failed ones, and delete the rows of jobs lost with their worker.

    Runs in the worker after each job of any kind; it must never raise there (the worker would
    record a job that succeeded as failed).
    """
    try:
        if task_result.task.module_path != send_account_mail.module_path:
            return
        from django_tasks_db.models import DBTaskResult

        rows = DBTaskResult.objects.filter(task_path=send_account_mail.module_path)
        rows.filter(status=TaskResultStatus.SUCCESSFUL).delete()
        rows.filter(status=TaskResultStatus.FAILED).update(args_kwargs=ERASED)
        lost, _ = rows.filter(
            status=TaskResultStatus.RUNNING, started_at__lt=timezone.now() - LOST_AFTER
        ).delete()
        if lost:
            logger.warning("lost account mail jobs deleted", extra={"count": lost})
    except Exception as exc:
        logger.error("account mail job rows not deleted", extra={"error": type(exc).__name__})
