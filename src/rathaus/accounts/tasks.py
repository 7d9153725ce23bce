"""Background jobs of the accounts module."""

from __future__ import annotations

from django_tasks import task

from rathaus.accounts.services import delete_unconfirmed_signups


@task(queue_name="default")
def delete_unconfirmed_signups_job() -> int:
    """Hourly: delete the sign-ups whose address was not confirmed in time
    (``ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS``) and which never logged in; returns how many."""
    return delete_unconfirmed_signups()
