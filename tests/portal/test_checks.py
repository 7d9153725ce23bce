"""Deployment check: the Impressum needs the operator's details in production."""

from __future__ import annotations

from rathaus.portal.checks import operator_details_are_configured


def test_missing_operator_details_are_reported_in_production(settings) -> None:
    settings.RATHAUS_ENV = "production"
    settings.RATHAUS_OPERATOR = {"name": "Stadt Solingen", "address": "", "email": ""}
    [warning] = operator_details_are_configured()
    assert warning.id == "rathaus.portal.W001"
    assert "RATHAUS_OPERATOR_ADDRESS, RATHAUS_OPERATOR_EMAIL" in warning.hint


def test_complete_operator_details_pass(settings) -> None:
    settings.RATHAUS_ENV = "production"
    settings.RATHAUS_OPERATOR = {
        "name": "Stadt Solingen",
        "address": "Rathausplatz 1, 42651 Solingen",
        "email": "buergerbuero@solingen.example",
    }
    assert operator_details_are_configured() == []


def test_demo_installations_are_not_warned(settings) -> None:
    settings.RATHAUS_ENV = "demo"
    settings.RATHAUS_OPERATOR = {"name": "", "address": "", "email": ""}
    assert operator_details_are_configured() == []
