"""Indexes for the work queue and its search at a million cases (bench/casework_queries.py).

PostgreSQL only (SQLite searches by substring and needs none of them):
- the applicant's name for full-text search, with the very expression the queue's
  ``SearchVector("applicant_name", config="german")`` compiles to, so the planner uses it;
- case number and Aktenzeichen compared case-insensitively (``iexact`` is ``UPPER(…) = UPPER(…)``);
- the queue's sort orders (due date, date received) for open cases and per status.

Built with CREATE INDEX CONCURRENTLY where the database is in use (non-atomic migration).
"""

from __future__ import annotations

from django.db import migrations

from rathaus.casework.migrations._postgres_indexes import index_operation

OPEN = "('received', 'in_review', 'waiting_for_citizen')"

INDEXES = {
    "case_name_fts_idx": (
        "casework_case USING gin (to_tsvector('german'::regconfig, COALESCE(applicant_name, '')))"
    ),
    "case_number_upper_idx": "casework_case (UPPER(number::text))",
    "case_file_reference_upper_idx": "records_file (UPPER(reference::text))",
    # The queue's sorts, so that its first page is read in index order and stops after a page
    # (the visibility filter, an OR of units and assignment, is checked on the rows read).
    "case_open_due_idx": f"casework_case (due_on, id) WHERE status IN {OPEN}",
    "case_open_opened_idx": f"casework_case (opened_at, id) WHERE status IN {OPEN}",
    "case_open_assignee_due_idx": (
        f"casework_case (assigned_to_id, due_on, id) WHERE status IN {OPEN}"
    ),
    "case_status_due_idx": "casework_case (status, due_on, id)",
    "case_status_opened_idx": "casework_case (status, opened_at, id)",
}


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("casework", "0003_file_notice_links"),
        ("records", "0001_initial"),
    ]

    operations = [index_operation(INDEXES)]
