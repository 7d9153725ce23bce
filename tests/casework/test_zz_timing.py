import time
import pytest
from rathaus.catalog.demo import load_responsibilities
from rathaus.catalog.sync import sync_catalog
from rathaus.core.demo import load_tenancy
from rathaus.records.demo import load_demo_file_plans

@pytest.mark.django_db
def test_t():
    for f in (sync_catalog, load_tenancy, load_responsibilities, load_demo_file_plans):
        t=time.perf_counter(); f(); print(f.__name__, time.perf_counter()-t)
