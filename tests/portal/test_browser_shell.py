import pytest


@pytest.mark.browser
def test_probe(page, axe_check):
    page.goto("/")
    axe_check(page)
