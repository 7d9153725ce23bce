"""/pruefen/: public verification by upload, by code and from the QR code; bad input never 500."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rathaus.core.models import Authority, Municipality
from rathaus.ledger import services
from rathaus.ledger.issuing import issue_document
from rathaus.ledger.leaves import format_code
from rathaus.ledger.models import Checkpoint
from rathaus.ledger.sequencer import sequence
from tests.documents.conftest import demo_seal_dir  # noqa: F401
from tests.documents.tsa_variants import tsa_variants  # noqa: F401
from tests.fixtures.tsa import local_tsa  # noqa: F401
from tests.ledger.tampering import change_entries

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    cache.clear()


@pytest.fixture
def authority() -> Authority:
    town = Municipality.objects.create(
        name="Wuppertal", slug="wuppertal", ags="05124000", state=Municipality.State.NW
    )
    return Authority.objects.create(
        municipality=town, kind=Authority.Kind.CITIZENS_OFFICE, name="Bürgeramt Wuppertal"
    )


def _pdf(text: str) -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + text.encode() + b"\n%%EOF\n"


@pytest.fixture
def issued(authority: Authority) -> Any:
    result = issue_document(
        render=lambda v: _pdf(f"Bescheid {v.short_code} {v.url}"),
        document_type="permit",
        authority=authority,
    )
    sequence()
    return result


def _upload(client: Client, data: bytes, name: str = "bescheid.pdf", **kw: Any) -> Any:
    ct = kw.pop("ct", "application/pdf")
    return client.post(
        "/pruefen/", {"document": SimpleUploadedFile(name, data, content_type=ct)}, **kw
    )


def test_page_needs_no_login_and_offers_upload_and_code(client: Client) -> None:
    response = client.get("/pruefen/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Dokument prüfen" in content
    assert 'enctype="multipart/form-data"' in content
    assert 'name="code"' in content
    assert "no-cache" in response["Cache-Control"]


def test_genuine_upload_shows_authority_type_date_and_holding_proof(
    client: Client, issued: Any
) -> None:
    response = _upload(client, issued.pdf)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Echt" in content
    assert "Bürgeramt Wuppertal, Wuppertal" in content
    assert "Erlaubnis" in content  # document type: permit
    assert issued.display_code in content
    assert "Gilt: Eintrag 0 ist im Log mit 1 Einträgen enthalten" in content
    assert "Nein" in content  # not revoked


def test_a_sealed_document_shows_its_seal_and_an_unsealed_one_says_it_has_none(
    client: Client, authority: Authority, issued: Any
) -> None:
    from rathaus.documents.seal import seal_pdf, seal_signer
    from tests.documents.pdf_inspection import small_pdf

    notice = issue_document(
        render=lambda v: seal_pdf(small_pdf(), signer=seal_signer(), location="Wuppertal"),
        document_type="notice",
        authority=authority,
    )
    sequence()
    content = _upload(client, notice.pdf).content.decode()
    assert "Elektronisches Siegel" in content
    assert "Gültig: gesiegelt von Elektronisches Siegel" in content
    assert "in Jahren noch zu prüfen" in content  # long-term validation data (demo CA: certs)

    content = _upload(client, issued.pdf).content.decode()  # a document type without a seal
    assert "Keines: Dokumente dieser Art tragen kein elektronisches Siegel" in content

    # the API says the same
    seal = client.post(
        "/api/v1/verify/",
        {"document": SimpleUploadedFile("b.pdf", notice.pdf, content_type="application/pdf")},
    ).json()["seal"]
    assert seal["sealed"] and seal["valid"] and seal["long_term"]
    assert seal["signer"].startswith("Elektronisches Siegel") and seal["signed_at"]
    assert seal["level"] == "B-B" and seal["timestamp"] is None  # no TSA in this test
    assert seal["outcome"] == "valid"
    assert [(link["kind"], link["holds"]) for link in seal["evidence"]] == [("seal", True)]
    by_hash = client.post(
        "/api/v1/verify/",
        json.dumps({"sha256": hashlib.sha256(notice.pdf).hexdigest()}),
        content_type="application/json",
    ).json()
    assert by_hash["status"] == "valid" and "seal" not in by_hash  # a hash has no seal
    unknown = client.post(
        "/api/v1/verify/",
        {
            "document": SimpleUploadedFile(
                "x.pdf", notice.pdf + b"\n", content_type="application/pdf"
            )
        },
    ).json()
    assert unknown["status"] == "unknown" and "seal" not in unknown  # never parsed


def test_changed_byte_is_not_verified(client: Client, issued: Any) -> None:
    changed = bytearray(issued.pdf)
    changed[20] ^= 1
    response = _upload(client, bytes(changed))
    assert response.status_code == 200
    assert "Nicht bestätigt" in response.content.decode()
    assert (
        "Bürgeramt"
        not in response.content.decode().split("Dokument prüfen")[-1].split("So funktioniert")[0]
    )


def test_revoked_document_shows_reason_and_date(client: Client, issued: Any) -> None:
    services.revoke(document=issued.pdf, reason="withdrawn")
    response = _upload(client, issued.pdf)
    content = response.content.decode()
    assert "Widerrufen" in content
    assert "Widerruf" in content
    sequence()
    data = client.get(f"/api/v1/verify/{issued.display_code}/").json()
    assert data["status"] == "revoked"
    assert data["revocation"]["reason"] == "withdrawn"
    assert data["revocation"]["proof_verified"] is True


def test_pending_entry_is_shown_as_pending(client: Client, authority: Authority) -> None:
    pending = issue_document(
        render=lambda v: _pdf("neu"), document_type="notice", authority=authority
    )
    response = client.get(f"/pruefen/{pending.display_code}")
    assert response.status_code == 200
    assert "Gerade ausgestellt" in response.content.decode()


def test_qr_url_shows_the_entry_and_asks_for_the_pdf(client: Client, issued: Any) -> None:
    response = client.get(issued.verification.url.split("localhost:8000")[-1])
    assert response.status_code == 200
    content = response.content.decode()
    assert "Bürgeramt Wuppertal" in content
    assert "laden Sie die PDF-Datei" in content


def test_typed_code_is_forgiving_and_redirects_to_the_canonical_address(
    client: Client, issued: Any
) -> None:
    typed = issued.display_code.lower().replace("-", " ").replace("0", "o")
    response = client.get("/pruefen/", {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == f"/pruefen/{issued.display_code}"
    assert client.get(f"/pruefen/{issued.code.lower()}").status_code == 302


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("", 400, "Bitte geben Sie den Prüfcode ein"),
        ("12345", 400, "zehn Buchstaben und Ziffern"),
        ("<script>alert(1)</script>", 400, "zehn Buchstaben und Ziffern"),
        ("x" * 500, 400, "zehn Buchstaben und Ziffern"),
    ],
)
def test_bad_codes_get_a_message_next_to_the_field(
    client: Client, code: str, status: int, message: str
) -> None:
    response = client.get("/pruefen/", {"code": code})
    assert response.status_code == status
    content = response.content.decode()
    assert message in content
    assert "<script>alert" not in content


def test_unknown_or_malformed_code_in_the_address_is_a_404_page(client: Client) -> None:
    for path in ["/pruefen/7KQ4M-2XH9P", "/pruefen/nonsense", "/pruefen/%00%ff"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Mit diesem Code wurde kein Dokument ausgestellt" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "name", "ct", "message"),
    [
        (b"", "leer.pdf", "application/pdf", "Die Datei ist leer"),
        (b"GIF89a\x01\x00\x01\x00", "bild.pdf", "application/pdf", "keine PDF-Datei"),
        (b"%PDF-1.7 but claimed html", "x.pdf", "text/html", "keine PDF-Datei"),
        (b"<html>hi</html>", "x.html", "text/html", "keine PDF-Datei"),
    ],
)
def test_bad_uploads_get_a_message_next_to_the_field(
    client: Client, data: bytes, name: str, ct: str, message: str
) -> None:
    response = _upload(client, data, name, ct=ct)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_missing_file_and_oversized_file_are_refused(client: Client, settings: Any) -> None:
    response = client.post("/pruefen/", {})
    assert response.status_code == 400
    assert "Bitte wählen Sie das PDF-Dokument" in response.content.decode()
    settings.LEDGER_VERIFY_MAX_BYTES = 1024 * 1024
    response = _upload(client, _pdf("x" * (1024 * 1024 + 10)))
    assert response.status_code == 400
    assert "größer als 1 MB" in response.content.decode()


def test_broken_multipart_body_is_a_400_not_a_500(client: Client) -> None:
    response = client.generic(
        "POST",
        "/pruefen/",
        b'--xyz\r\nContent-Disposition: form-data; name="document"; filename="a.pdf"\r\n',
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400


@pytest.mark.parametrize("charset", ["rot13", "undefined"])
def test_an_upload_declaring_a_non_text_charset_is_refused_beside_the_field(
    client: Client, charset: str
) -> None:
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="document"; filename="a.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.7\n%%EOF\n\r\n--xyz--\r\n"
    )
    response = client.generic(
        "POST",
        "/pruefen/",
        body,
        content_type=f"multipart/form-data; boundary=xyz; charset={charset}",
    )
    assert response.status_code == 400
    assert "Die hochgeladene Datei konnte nicht gelesen werden" in response.content.decode()


def test_upload_needs_the_csrf_token(issued: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = _upload(client, issued.pdf)
    assert response.status_code == 403


def test_uploads_are_rate_limited_per_client(client: Client, settings: Any, issued: Any) -> None:
    settings.LEDGER_VERIFY_RATE_LIMITS = {"upload": (3, 600)}
    for _ in range(3):
        assert _upload(client, issued.pdf).status_code == 200
    response = _upload(client, issued.pdf)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Zu viele Prüfungen" in response.content.decode()
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert _upload(other, issued.pdf).status_code == 200


def test_forged_checkpoint_makes_the_check_fail_visibly(client: Client, issued: Any) -> None:
    checkpoint = Checkpoint.objects.latest()
    Checkpoint.objects.filter(pk=checkpoint.pk).update(root_hash=b"\x00" * 32)
    response = _upload(client, issued.pdf)
    assert response.status_code == 200
    assert "Die Prüfung konnte nicht abgeschlossen werden" in response.content.decode()


def test_api_verifies_an_uploaded_document_and_a_hash(client: Client, issued: Any) -> None:
    response = client.post(
        "/api/v1/verify/",
        {"document": SimpleUploadedFile("b.pdf", issued.pdf, content_type="application/pdf")},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "valid"
    assert data["proof_verified"] is True
    assert data["authority"]["name"] == "Bürgeramt Wuppertal"
    assert data["code"] == format_code(issued.code)
    assert data["checkpoint"]["size"] == 1
    response = client.post(
        "/api/v1/verify/", json.dumps({"sha256": "0" * 64}), content_type="application/json"
    )
    assert response.json()["status"] == "unknown"


def test_api_errors_are_problem_documents(client: Client) -> None:
    response = client.post(
        "/api/v1/verify/", json.dumps({"sha256": "nope"}), content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    response = client.get("/api/v1/verify/7KQ4M-2XH9P/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    response = client.post(
        "/api/v1/verify/",
        {"document": SimpleUploadedFile("b.txt", b"hello", content_type="text/plain")},
    )
    assert response.status_code == 400
    assert response.json()["errors"]["document"]


def test_a_client_cycling_through_its_ipv6_64_is_rate_limited(issued: Any, settings: Any) -> None:
    """An IPv6 client owns a /64 and may take a new address for every request: the budget is
    the network's, not the address's."""
    settings.LEDGER_VERIFY_RATE_LIMITS = {"code": (3, 600)}
    statuses = [
        Client(REMOTE_ADDR=f"2001:db8:1:2::{n:x}")
        .get(f"/pruefen/{issued.display_code}")
        .status_code
        for n in range(1, 11)
    ]
    assert statuses[:3] == [200] * 3
    assert 429 in statuses
    api = Client(REMOTE_ADDR="2001:db8:1:2::ff").get(f"/api/v1/verify/{issued.display_code}/")
    assert api.status_code == 429  # the API shares the budget
    other = Client(REMOTE_ADDR="2001:db8:1:3::1").get(f"/pruefen/{issued.display_code}")
    assert other.status_code == 200  # another /64 is another client


def test_the_page_shows_the_authority_name_as_logged_after_a_rename(
    client: Client, issued: Any, authority: Authority
) -> None:
    Authority.objects.filter(pk=authority.pk).update(name="Amt für Fälschungen")

    content = client.get(f"/pruefen/{issued.display_code}").content.decode()

    assert "Bürgeramt Wuppertal, Wuppertal" in content
    assert "Fälschungen" not in content


def test_a_changed_row_makes_the_page_say_the_check_failed(client: Client, issued: Any) -> None:

    change_entries({"code": issued.code}, document_type="residence-certificate")

    content = client.get(f"/pruefen/{issued.display_code}").content.decode()

    assert "Die Prüfung konnte nicht abgeschlossen werden" in content
    assert "Meldebescheinigung" not in content  # the row's new type is not shown as logged


def test_a_renewed_copy_shows_the_hash_of_the_uploaded_file_and_of_the_issued_document(
    client: Client,
    authority: Authority,
    settings: Any,
    demo_seal_dir: Path,  # noqa: F811
) -> None:
    from weasyprint import HTML

    from rathaus.documents.seal import seal_pdf, seal_signer
    from tests.documents.pdf_forgery import append_revision, redate_in_new_xmp

    settings.VAR_DIR = demo_seal_dir
    settings.DOCUMENTS_SEAL_PKCS12 = settings.DOCUMENTS_SEAL_TRUST_ROOTS = ""
    rendered = HTML(string="<title>Erlaubnis</title><p>Erteilt.</p>").write_pdf(
        pdf_variant="pdf/a-3u"
    )
    assert isinstance(rendered, bytes)
    notice = issue_document(
        render=lambda v: seal_pdf(rendered, signer=seal_signer(), location="Wuppertal"),
        document_type="permit",
        authority=authority,
    )
    sequence()
    # a later revision that only writes new dates into the metadata, as a renewal does
    copy = append_revision(notice.pdf, redate_in_new_xmp)
    issued_hash = hashlib.sha256(notice.pdf).hexdigest()
    copy_hash = hashlib.sha256(copy).hexdigest()

    answer = client.post(
        "/api/v1/verify/",
        {"document": SimpleUploadedFile("b.pdf", copy, content_type="application/pdf")},
    ).json()
    content = _upload(client, copy).content.decode()

    assert answer["status"] == "valid" and answer["renewed_copy"] is True
    assert answer["document_sha256"] == copy_hash
    assert answer["issued_sha256"] == issued_hash
    assert "enthält das ausgestellte Dokument unverändert" in content
    mine, issued_line = content.split("SHA-256 Ihrer Datei", 1)[1].split("SHA-256 des", 1)
    assert copy_hash[:16] in mine.replace("<wbr>", "")
    assert issued_hash[:16] in issued_line.replace("<wbr>", "")


def test_a_pdf_of_end_markers_is_hashed_once_whatever_its_revisions(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rathaus.documents import seal
    from tests.documents.test_earlier_revisions import CountingSha256

    counted = [0]

    class CountingHashlib:
        @staticmethod
        def sha256(data: Any = b"") -> CountingSha256:
            return CountingSha256(counted, data)

    monkeypatch.setattr(seal, "hashlib", CountingHashlib)
    # "signed", so that it is looked at as a renewed copy; millions of markers cost one pass
    bomb = b"%PDF-1.7\n/ByteRange [0 0 0 0]\n" + b"%%EOF" * (2 * 1024 * 1024 // 5)
    page = _upload(client, bomb)
    api = client.post(
        "/api/v1/verify/",
        {"document": SimpleUploadedFile("b.pdf", bomb, content_type="application/pdf")},
    )

    assert page.status_code == 200 and "Nicht bestätigt" in page.content.decode()
    assert api.status_code == 200 and api.json()["status"] == "unknown"
    assert 0 < counted[0] <= 2 * len(bomb)  # each upload once; was 36 prefixes each


def test_a_seal_whose_time_stamp_key_cannot_be_loaded_is_named_as_such(
    client: Client,
    authority: Authority,
    settings: Any,
    demo_seal_dir: Path,  # noqa: F811
    tsa_variants: Any,  # noqa: F811
) -> None:
    from datetime import UTC, datetime, timedelta

    from weasyprint import HTML

    from rathaus.documents.seal import seal_signer
    from tests.documents.pdf_forgery import sealed_elsewhere
    from tests.documents.tsa_variants import SINCE
    from tests.fixtures.tsa import ForeignCurveStamper

    settings.VAR_DIR = demo_seal_dir
    settings.DOCUMENTS_SEAL_PKCS12 = settings.DOCUMENTS_SEAL_TRUST_ROOTS = ""
    settings.DOCUMENTS_TSA_TRUST_ROOTS = str(tsa_variants.roots_pem)
    rendered = HTML(string="<title>Erlaubnis</title><p>Erteilt.</p>").write_pdf()
    assert isinstance(rendered, bytes)
    stamper = ForeignCurveStamper(
        "brainpoolp320r1",
        issuer_key=tsa_variants.ca_key,
        issuer=tsa_variants.ca_cert,
        valid_since=SINCE,
        valid_until=datetime.now(UTC) + timedelta(days=3650),
    )
    notice = issue_document(
        render=lambda v: sealed_elsewhere(rendered, signer=seal_signer(), timestamper=stamper),
        document_type="permit",
        authority=authority,
    )
    sequence()

    german = _upload(client, notice.pdf).content.decode()
    english = _upload(client, notice.pdf, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Echt:" in german  # the log knows the file; only its seal cannot be checked here
    assert (
        "Der Zeitstempel des Siegels kann nicht geprüft werden: Der Schlüsseltyp oder die "
        "Kurve seines Zeitstempeldienstes wird nicht unterstützt."
    ) in german
    assert (
        "The seal&#x27;s time stamp cannot be checked: the key type or curve of its "
        "time-stamping authority is not supported."
    ) in english
    for page in (german, english):
        assert "Siegelzertifikaten" not in page and "seal certificates this portal" not in page
