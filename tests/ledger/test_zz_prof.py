import cProfile, pstats
import pytest
from rathaus.ledger import services

def test_prof(authority):
    pr = cProfile.Profile(); pr.enable()
    for i in range(300):
        services.append(document=b"x%d" % i, document_type="notice", authority=authority)
    pr.disable()
    pstats.Stats(pr).sort_stats("cumulative").print_stats(25)
