"""Background jobs of the applications module."""

from __future__ import annotations

from django_tasks import task

from rathaus.applications.services import delete_expired_drafts


@task(queue_name="default")
def delete_expired_drafts_job() -> int:
    """Daily: delete drafts past their expiry (default 30 days after the last save), with files."""
    return delete_expired_drafts()
