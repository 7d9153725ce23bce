"""Background tasks (Django tasks API, queue ``payments``)."""

from __future__ import annotations

from django_tasks import task

from rathaus.payments.services import reconcile_open_transactions


@task(queue_name="payments")
def reconcile_payments() -> dict[str, int]:
    """Pull the status of every open payment; schedule it every few minutes."""
    result = reconcile_open_transactions()
    return {"checked": result.checked, "changed": result.changed, "failed": result.failed}
