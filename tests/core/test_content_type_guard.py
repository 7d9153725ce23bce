"""A Content-Type parameter Django cannot decode with never turns a request into a bare 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils.http import parse_header_parameters

from rathaus.core.content_type_guard import decodes_text, readable_content_type


@pytest.mark.parametrize(
    "charset, usable",
    [
        ("utf-8", True),
        ("ISO-8859-1", True),
        ("utf-16", True),
        ("rot13", False),  # known to codecs.lookup, but no text encoding
        ("base64", False),
        ("idna", False),  # text encodings that refuse errors="replace"
        ("undefined", False),
        ("no-such-charset", False),
        ("utf\x008", False),
    ],
)
def test_only_text_encodings_that_decode_any_bytes_are_usable(charset: str, usable: bool) -> None:
    assert decodes_text(charset) is usable


@pytest.mark.parametrize(
    "declared, readable",
    [
        ("text/plain; charset=rot13", "text/plain"),
        ('text/plain; charset="rot13"', "text/plain"),
        ("text/plain; charset*=utf-8''rot13", "text/plain"),
        ("text/plain; CHARSET=Undefined; x=1", {"x": "1"}),
        ("multipart/form-data; charset=rot13; boundary=xyz", {"boundary": "xyz"}),
        ('multipart/form-data; boundary="a;b\\"c"; charset=rot13', {"boundary": 'a;b"c'}),
        ("text/plain; title*=bogus''x; charset=utf-8", {"charset": "utf-8"}),
    ],
)
def test_a_charset_django_cannot_decode_with_is_removed_and_the_rest_kept(
    declared: str, readable: str | dict[str, str]
) -> None:
    cleaned = readable_content_type(declared)
    if isinstance(readable, str):
        assert cleaned == readable
    else:
        assert parse_header_parameters(cleaned) == (declared.split(";")[0], readable)


@pytest.mark.parametrize(
    "declared",
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain; charset=latin-1; format=flowed",
        "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk",
    ],
)
def test_a_content_type_django_can_read_is_passed_on_unchanged(declared: str) -> None:
    assert readable_content_type(declared) == declared


@pytest.mark.django_db
@pytest.mark.parametrize("charset", ["rot13", "undefined", "idna"])
def test_a_page_asked_for_with_an_unusable_charset_is_read_as_utf8(
    call_wsgi: Any, charset: str
) -> None:
    status, body = call_wsgi(
        "/leistungen/", "q=Pass%C3%A4", CONTENT_TYPE=f"text/plain; charset={charset}"
    )
    assert status.startswith("200")
    assert "Passä" in body.decode()
