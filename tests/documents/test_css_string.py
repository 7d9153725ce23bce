"""Values printed in page headers and footers are escaped CSS strings."""

from __future__ import annotations

import pytest

from rathaus.documents.templatetags.documents_css import css_string


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Bürgeramt 33.1", '"B\\FC rgeramt 33.1"'),
        ('a"b\\c', '"a\\22 b\\5C c"'),
        ("</style><script>", '"\\3C /style\\3E \\3C script\\3E "'),
        ("Mo-Fr\n8-16 Uhr", '"Mo-Fr\\A 8-16 Uhr"'),
    ],
)
def test_css_string_escapes_everything_but_plain_ascii(value: str, expected: str) -> None:
    assert css_string(value) == expected
