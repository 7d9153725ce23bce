"""The scheduler enqueues every periodic job."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult


@pytest.mark.django_db
def test_scheduler_once_enqueues_each_periodic_job() -> None:
    call_command("run_scheduler", once=True)
    paths = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert paths == {
        "rathaus.payments.tasks.reconcile_payments",
        "rathaus.applications.tasks.delete_expired_drafts_job",
        "rathaus.mailbox.tasks.queue_stranded_notifications",
        "rathaus.applications.receipts.queue_missing_receipts",
        "rathaus.casework.tasks.remind_overdue_job",
        "rathaus.records.tasks.purge_pending_contents_job",
        "rathaus.applications.tasks.purge_disposed_job",
        "rathaus.records.tasks.renew_archive_timestamps_job",
        "rathaus.applications.tasks.hand_over_paid_job",
    }
