"""Files opened at the same moment get distinct, gap-free Aktenzeichen (PostgreSQL row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from rathaus.core.models import Authority, OrgUnit
from rathaus.records.models import File, FilePlan
from rathaus.records.services import open_file

THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_files_opened_at_the_same_time_get_distinct_references(
    authority: Authority, plan: FilePlan, unit: OrgUnit
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs a database with real row locks and concurrent connections (PostgreSQL)")
    barrier = threading.Barrier(THREADS)
    references: list[str] = []
    errors: list[BaseException] = []

    def open_one(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            file = open_file(
                authority=authority,
                plan_key="11.30.01",
                org_unit=unit if index % 2 else None,
                title=f"Anmeldung {index}",
                actor=None,
            )
            references.append(file.reference)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_one, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(references) == len(set(references)) == THREADS
    serials = sorted(File.objects.values_list("serial", flat=True))
    assert serials == list(range(1, THREADS + 1))
