"""``manage.py purge_disposed``: catch up on the purge of cases and applications whose file the
E-Akte has disposed of (``file_disposed`` is sent once; a receiver that failed, or a storage that
could not delete a PDF, is retried here). Safe to run at any time; the scheduler runs the same
purges hourly (``applications.tasks.purge_disposed_job``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from rathaus.applications.disposal import purge_disposed_applications
from rathaus.casework.disposal import purge_disposed_cases


class Command(BaseCommand):
    help = "Purge the personal data of cases and applications whose file has been disposed of."

    def handle(self, *args: Any, **options: Any) -> None:
        cases = purge_disposed_cases()
        applications = purge_disposed_applications()
        self.stdout.write(f"Purged: {cases} case(s), {applications} application(s).")
