"""The work queue sorted by case number, read in index order per org unit (PostgreSQL only).

Without it a unit's cases sorted by number were all read and sorted for every page (a unit
with 300,000 cases at a million); with it, as for the other sorts (0005), each branch of the
queue reads one page in order. Open cases use the same index, filtered.
"""

from __future__ import annotations

from django.db import migrations

from rathaus.casework.migrations._postgres_indexes import index_operation

INDEXES = {"case_unit_number_idx": "casework_case (org_unit_id, number, id)"}


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("casework", "0007_name_vector")]

    operations = [index_operation(INDEXES)]
