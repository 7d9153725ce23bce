"""Background jobs of the records module."""

from __future__ import annotations

from django_tasks import task

from rathaus.records.disposal import purge_pending_contents


@task(queue_name="default")
def purge_pending_contents_job() -> int:
    """Hourly: delete the stored contents of disposed files that the storage could not delete
    at the disposal (or a crash interrupted); returns how many are still pending."""
    return purge_pending_contents()
