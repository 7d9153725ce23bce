"""Background jobs of the records module."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django_tasks import task

from rathaus.records.disposal import carry_out_destruction, purge_pending_contents
from rathaus.records.models import DisposalRun
from rathaus.records.preservation import renew_archive_timestamps


@task(queue_name="default")
def purge_pending_contents_job() -> int:
    """Hourly: delete the stored contents of disposed files that the storage could not delete
    at the disposal (or a crash interrupted); returns how many are still pending."""
    return purge_pending_contents()


@task(queue_name="default")
def carry_out_disposal_job(run_id: int, actor_id: int | None) -> dict[str, Any]:
    """Dispose of the files of an approved run, queued by the admin's approval so that a run of
    thousands of files does not have to fit into one web request. Returns what it did, as the
    job's result in the admin; the run's page shows the progress and the files kept."""
    run = DisposalRun.objects.get(pk=run_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    result = carry_out_destruction(run=run, actor=actor)
    return {
        "run": run_id,
        "state": run.state,
        "disposed": len(result.disposed),
        "kept": [f"{reference}: {reason}" for reference, reason in result.kept],
        "contents_pending": result.contents_pending,
    }


@task(queue_name="default")
def renew_archive_timestamps_job() -> dict[str, Any]:
    """Daily: record the archive time stamps of new PDF versions and renew those whose TSA
    certificate expires soon or that rest on a weak hash, signature scheme or key length
    (:mod:`rathaus.records.preservation`). Returns what it did, with ``problem`` when it had to
    stop and ``warnings`` for what it did all the same but should be corrected."""
    result = renew_archive_timestamps()
    report: dict[str, Any] = {
        "checked": result.checked,
        "renewed": result.renewed,
        "failed": result.failed,
    }
    if result.problem:  # nothing (more) renewed: the configuration or the TSA must be corrected
        report["problem"] = result.problem
    if result.warnings:  # renewed all the same, but to be corrected (e.g. a TSA below minimum)
        report["warnings"] = result.warnings
    return report
