import time
from django.core.management import call_command
from rathaus.records.demo import load_demo_file_plans
import pytest

@pytest.mark.django_db
def test_smoke(monkeypatch):
    import rathaus.catalog.management.commands.load_demo as m
    monkeypatch.setattr(m, "load_demo_file_plans", lambda: 0)
    t=time.process_time(); call_command("load_demo", verbosity=0); print("demo cpu", time.process_time()-t)
    t=time.process_time(); load_demo_file_plans(); print("plans cpu", time.process_time()-t)
