"""Background jobs of the casework module."""

from __future__ import annotations

from django_tasks import task

from rathaus.casework.services import remind_overdue


@task(queue_name="default")
def remind_overdue_job() -> int:
    """Daily: e-mail the clerks (or the unit's team leads) about their overdue cases."""
    return remind_overdue()
