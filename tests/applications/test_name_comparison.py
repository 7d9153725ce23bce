"""Names compared by the services' rules: the same name however it was typed."""

from __future__ import annotations

from rathaus.applications.service_rules import _same_text


def test_the_eid_name_matches_whether_or_not_a_zero_width_joiner_was_typed() -> None:
    # Meldebescheinigung: the form's name against the one the eID confirmed (Persian and
    # Hindi names are spelt with U+200C / U+200D between letters; an ID card prints them without)
    assert _same_text("Mehr\u200casa", "Mehrasa")
    assert _same_text("\u0932\u0915\u094d\u200d\u0937\u094d\u092e\u0940", "लक्ष्मी")
    assert not _same_text("Mehrasa", "Mehrasan")
