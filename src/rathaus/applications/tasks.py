"""Background jobs of the applications module."""

from __future__ import annotations

from django_tasks import task

from rathaus.applications.disposal import purge_disposed_applications
from rathaus.applications.services import (
    delete_expired_drafts,
    delete_expired_unpaid,
    hand_over_paid,
)
from rathaus.applications.uploads import delete_pending_files
from rathaus.casework.disposal import purge_disposed_cases


@task(queue_name="default")
def delete_expired_drafts_job() -> int:
    """Hourly: delete drafts past their expiry (default 30 days after the last save) and sent
    applications whose fee was not paid in time (``APPLICATION_UNPAID_DAYS``), with files; and
    try again the stored files whose deletion failed before (``uploads.delete_pending_files``).
    Returns how many applications were deleted."""
    delete_pending_files()
    return delete_expired_drafts() + delete_expired_unpaid()


@task(queue_name="default")
def purge_disposed_job() -> int:
    """Hourly: purge the cases and applications whose file the E-Akte has disposed of but whose
    purge did not run or left a stored file behind (``file_disposed`` is sent only once);
    returns how many cases and applications changed."""
    return purge_disposed_cases() + purge_disposed_applications()


@task(queue_name="default")
def hand_over_paid_job() -> int:
    """Every ten minutes: hand over the applications whose payment is confirmed but which are
    still waiting for it (:func:`rathaus.applications.services.hand_over_paid`)."""
    return hand_over_paid()
