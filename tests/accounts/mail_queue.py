"""Running the queued account e-mails in tests (``rathaus.accounts.account_mail``).

allauth's e-mails are queued after the commit and sent by the worker. Tests that read
``mail.outbox`` after a request wrap the request in the ``account_mail_sent`` fixture
(tests/accounts/conftest.py): the commit callbacks run when the block ends (the test's own
transaction never commits), which queues the e-mails, and the queued jobs then run as
``manage.py db_worker`` runs them. Tests with ``transaction=True`` may run the worker command
itself instead.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from rathaus.accounts.account_mail import send_account_mail

#: The ``account_mail_sent`` fixture: ``with account_mail_sent(): client.post(...)``
Sent = Callable[[], AbstractContextManager[None]]


def run_account_mail_jobs() -> int:
    """Run the account-mail jobs that are due, as the worker does (claim the row, call the job,
    record its result, send ``task_finished``); returns how many ran.

    The worker command cannot run inside a test's transaction: between jobs it closes the
    database connection. Its ``Worker.run_task`` runs one job without that.
    """
    worker = Worker(
        queue_names=[send_account_mail.queue_name],
        interval=0,
        batch=True,
        backend_name=send_account_mail.backend,
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )
    due = DBTaskResult.objects.ready().filter(task_path=send_account_mail.module_path)
    ran = 0
    for row in list(due):
        row.claim(worker.worker_id)
        worker.run_task(row)
        ran += 1
    return ran
