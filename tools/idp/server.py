"""A local SAML 2.0 identity provider in the manner of BundID, for Rathaus' tests and demo.

Built on pysaml2's ``saml2.server.Server``: it checks the portal's signed AuthnRequest (HTTP
Redirect binding), reads the requested STORK-QAA level and the AKDB extension, lets one of the
test citizens log in, and answers with a signed assertion by HTTP POST whose attributes carry an
``akdb:TrustLevel`` each. Never use it in production.

    python tools/idp/server.py --port 8200 \
        --sp-metadata http://localhost:8000/konto/extern/bundid-test/saml/metadata/

``--sp-metadata`` is a file or a URL; it is read at the first login, when the portal runs.
"""

from __future__ import annotations

import argparse
import base64
import html
import secrets
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, xmldsig
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.server import Server
from saml2.sigver import pre_signature_part, read_cert_from_file

AKDB_NS = "https://www.akdb.de/request/2018/09"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
XMLSEC = "/usr/bin/xmlsec1"
STORK_RANK = {"STORK-QAA-Level-1": 1, "STORK-QAA-Level-3": 3, "STORK-QAA-Level-4": 4}
AKDB_LEVEL = {1: "NORMAL", 3: "SUBSTANTIELL", 4: "HOCH"}

OID = {
    "bPK2": "urn:oid:1.3.6.1.4.1.25484.494450.3",
    "surname": "urn:oid:2.5.4.4",
    "givenName": "urn:oid:2.5.4.42",
    "mail": "urn:oid:0.9.2342.19200300.100.1.3",
    "birthdate": "urn:oid:1.2.40.0.10.2.1.1.55",
    "postalAddress": "urn:oid:2.5.4.16",
    "postalCode": "urn:oid:2.5.4.17",
    "locality": "urn:oid:2.5.4.7",
    "EID-CITIZEN-QAA-LEVEL": "urn:oid:1.2.40.0.10.2.1.1.261.94",
}


@dataclass(frozen=True)
class Citizen:
    key: str
    label: str
    method: str  # the AKDB login means: Benutzername, Elster, eID
    stork: str
    attributes: dict[str, str]

    @property
    def rank(self) -> int:
        return STORK_RANK[self.stork]


CITIZENS = [
    Citizen(
        "basis",
        "Bea Basis (Benutzername und Passwort, niedrig)",
        "Benutzername",
        "STORK-QAA-Level-1",
        {
            "bPK2": "bpk2-test-basis-0001",
            "givenName": "Bea",
            "surname": "Basis",
            "mail": "bea.basis@example.org",
        },
    ),
    Citizen(
        "elster",
        "Elias Elster (ELSTER-Zertifikat, substanziell)",
        "Elster",
        "STORK-QAA-Level-3",
        {
            "bPK2": "bpk2-test-elster-0002",
            "givenName": "Elias",
            "surname": "Elster",
            "birthdate": "1975-06-30",
            "mail": "elias.elster@example.org",
            "postalAddress": "Neumarkt 10",
            "postalCode": "42103",
            "locality": "Wuppertal",
        },
    ),
    Citizen(
        "eid",
        "Erika Mustermann (Online-Ausweis, hoch)",
        "eID",
        "STORK-QAA-Level-4",
        {
            "bPK2": "bpk2-test-eid-0003",
            "givenName": "Erika",
            "surname": "Mustermann",
            "birthdate": "1964-08-12",
            "mail": "erika.mustermann@example.org",
            "postalAddress": "Friedrich-Engels-Allee 12",
            "postalCode": "42283",
            "locality": "Wuppertal",
        },
    ),
]
CITIZEN_BY_KEY = {c.key: c for c in CITIZENS}


def make_key_pair(directory: Path, name: str = "idp") -> tuple[Path, Path]:
    """A fresh RSA key and self-signed certificate (PEM) in ``directory``."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Rathaus test {name}")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def build_server(*, base_url: str, key_file: Path, cert_file: Path) -> Server:
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{base_url}/metadata",
            "key_file": str(key_file),
            "cert_file": str(cert_file),
            "xmlsec_binary": XMLSEC,
            "accepted_time_diff": 30,
            "metadata": {"inline": []},  # the SP's metadata is loaded at the first login
            "service": {
                "idp": {
                    "name": "Rathaus Test-IdP",
                    "endpoints": {
                        "single_sign_on_service": [
                            (f"{base_url}/sso/redirect", BINDING_HTTP_REDIRECT),
                        ],
                    },
                    "want_authn_requests_signed": True,
                    "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    "policy": {"default": {"lifetime": {"minutes": 5}}},
                }
            },
        }
    )
    return Server(config=config)


def metadata_xml(server: Server) -> str:
    return create_metadata_string(None, config=server.config, valid=24, sign=False).decode()


@dataclass(frozen=True)
class AuthnRequestInfo:
    id: str
    issuer: str
    acs_url: str
    minimum_rank: int
    methods: tuple[str, ...]
    requested: tuple[str, ...]


def read_authn_request(server: Server, query: dict[str, str]) -> AuthnRequestInfo:
    """Parse and check (signature, destination) the portal's AuthnRequest."""
    parsed = server.parse_authn_request(
        query["SAMLRequest"],
        BINDING_HTTP_REDIRECT,
        relay_state=query.get("RelayState"),
        sigalg=query.get("SigAlg"),
        signature=query.get("Signature"),
    )
    message = parsed.message
    minimum = 1
    context = message.requested_authn_context
    if context is not None:
        ranks = [
            STORK_RANK.get((ref.text or "").strip(), 1) for ref in context.authn_context_class_ref
        ]
        minimum = max(ranks or [1])
    methods: list[str] = []
    requested: list[str] = []
    if message.extensions is not None:
        for element in message.extensions.extension_elements:
            root = etree.fromstring(element.to_string())
            for method in root.iterfind(f"{{{AKDB_NS}}}AuthnMethods/*"):
                enabled = method.findtext(f"{{{AKDB_NS}}}Enabled", "true").strip()
                if enabled == "true":
                    methods.append(etree.QName(method).localname)
            for attribute in root.iterfind(f"{{{AKDB_NS}}}RequestedAttributes/*"):
                requested.append(attribute.get("Name", ""))
    acs = (
        message.assertion_consumer_service_url
        or server.metadata.assertion_consumer_service(message.issuer.text, BINDING_HTTP_POST)[0][
            "location"
        ]
    )
    return AuthnRequestInfo(
        id=message.id,
        issuer=message.issuer.text,
        acs_url=acs,
        minimum_rank=minimum,
        methods=tuple(methods),
        requested=tuple(requested),
    )


def build_response(
    server: Server,
    request: AuthnRequestInfo,
    citizen: Citizen,
    *,
    signer: Server | None = None,
    sign: bool = True,
    audience: str | None = None,
    destination: str | None = None,
    authn_instant: str | None = None,
) -> str:
    """The base64 SAMLResponse for ``citizen``: a signed assertion in the BundID manner.

    ``signer``, ``sign``, ``audience``, ``destination`` and ``authn_instant`` (the login's time,
    default now) exist so that tests can build the broken responses a portal must refuse.
    """
    names = {oid: name for name, oid in OID.items()}
    wanted = set(request.requested) or set(OID.values())
    identity = {
        OID[name]: [value] for name, value in citizen.attributes.items() if OID[name] in wanted
    }
    identity[OID["EID-CITIZEN-QAA-LEVEL"]] = [citizen.stork]
    unsigned = server.create_authn_response(
        identity,
        in_response_to=request.id,
        destination=destination or request.acs_url,
        sp_entity_id=request.issuer,
        name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text=secrets.token_hex(16)),
        authn={"class_ref": citizen.stork, "authn_auth": server.config.entityid},
        sign_response=False,
        sign_assertion=False,
    )
    root = etree.fromstring(str(unsigned).encode())
    assertion = root.find(f"{{{SAML_NS}}}Assertion")
    assert assertion is not None
    if audience is not None:
        for element in assertion.iter(f"{{{SAML_NS}}}Audience"):
            element.text = audience
    if authn_instant is not None:
        for element in assertion.iter(f"{{{SAML_NS}}}AuthnStatement"):
            element.set("AuthnInstant", authn_instant)
    for attribute in assertion.iter(f"{{{SAML_NS}}}Attribute"):
        oid = attribute.get("Name", "")
        attribute.set("NameFormat", NAME_FORMAT_URI)
        attribute.set("FriendlyName", names.get(oid, oid))
        attribute.set(f"{{{AKDB_NS}}}TrustLevel", AKDB_LEVEL[citizen.rank])
    if sign:
        signing = signer or server
        template = pre_signature_part(
            assertion.get("ID"),
            read_cert_from_file(signing.config.cert_file, "pem"),
            sign_alg=xmldsig.SIG_RSA_SHA256,
            digest_alg=xmldsig.DIGEST_SHA256,
        )
        issuer = assertion.find(f"{{{SAML_NS}}}Issuer")
        assert issuer is not None
        issuer.addnext(etree.fromstring(str(template).encode()))
        document = etree.tostring(root, encoding="unicode")
        document = signing.sec.sign_statement(
            document, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", node_id=assertion.get("ID")
        )
    else:
        document = etree.tostring(root, encoding="unicode")
    return base64.b64encode(document.encode()).decode()


def post_form(action: str, response: str, relay_state: str) -> str:
    """The HTTP POST binding: a form that the citizen's browser sends to the portal."""
    return (
        '<!doctype html><html lang="de"><head><meta charset="utf-8">'
        "<title>Weiter zum Portal</title></head><body><main>"
        "<h1>Anmeldung erfolgreich</h1>"
        f'<form method="post" action="{html.escape(action)}">'
        f'<input type="hidden" name="SAMLResponse" value="{html.escape(response)}">'
        f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">'
        '<button type="submit">Weiter zum Portal</button></form></main></body></html>'
    )


class IdentityProviderApp:
    """The WSGI application: metadata, single sign-on, login form."""

    def __init__(self, server: Server, sp_metadata: str) -> None:
        self.server = server
        self.sp_metadata = sp_metadata
        self.pending: dict[str, tuple[AuthnRequestInfo, str]] = {}
        self.lock = threading.Lock()

    def load_sp_metadata(self) -> None:
        source = self.sp_metadata
        if source.startswith(("http://", "https://")):
            text = httpx.get(source, timeout=10).raise_for_status().text
        else:
            text = Path(source).read_text()
        self.server.metadata.load("inline", text)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if path == "/metadata":
                return self.reply(start_response, "200 OK", metadata_xml(self.server), "xml")
            if path == "/sso/redirect" and method == "GET":
                return self.sso(environ, start_response)
            if path == "/login" and method == "POST":
                return self.login(environ, start_response)
        except Exception as exc:  # a test IdP shows what went wrong
            return self.reply(
                start_response,
                "400 Bad Request",
                page("Fehler", f"<p>{html.escape(repr(exc))}</p>"),
            )
        return self.reply(start_response, "404 Not Found", page("Nicht gefunden", ""))

    def sso(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        with self.lock:
            self.load_sp_metadata()
            request = read_authn_request(self.server, query)
        key = secrets.token_urlsafe(16)
        self.pending[key] = (request, query.get("RelayState", ""))
        offered = [
            c
            for c in CITIZENS
            if c.rank >= request.minimum_rank
            and (not request.methods or c.method in request.methods)
        ]
        buttons = "".join(
            f'<p><button type="submit" name="citizen" value="{c.key}">'
            f"{html.escape(c.label)}</button></p>"
            for c in offered
        )
        body = (
            "<p>Dies ist ein lokaler Test-Identitätsdienst nach Art der BundID. "
            "Wählen Sie eine Testperson:</p>"
            f'<form method="post" action="/login"><input type="hidden" name="key" value="{key}">'
            f"{buttons}</form>"
        )
        return self.reply(start_response, "200 OK", page("Test-BundID: Anmelden", body))

    def login(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(urllib.parse.parse_qsl(environ["wsgi.input"].read(size).decode()))
        request, relay_state = self.pending.pop(form.get("key", ""))
        citizen = CITIZEN_BY_KEY[form.get("citizen", "")]
        if citizen.rank < request.minimum_rank:
            raise ValueError("citizen below the requested level")
        with self.lock:
            response = build_response(self.server, request, citizen)
        return self.reply(
            start_response, "200 OK", post_form(request.acs_url, response, relay_state)
        )

    @staticmethod
    def reply(start_response: Any, status: str, body: str, kind: str = "html") -> list[bytes]:
        content_type = "application/samlmetadata+xml" if kind == "xml" else "text/html"
        start_response(status, [("Content-Type", f"{content_type}; charset=utf-8")])
        return [body.encode()]


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="de"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title></head><body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--sp-metadata", required=True, help="file or URL of the SP metadata")
    parser.add_argument("--key-dir", help="keep the key pair here (default: a temporary folder)")
    args = parser.parse_args()
    base_url = f"http://{args.host}:{args.port}"
    directory = Path(args.key_dir or tempfile.mkdtemp(prefix="rathaus-idp-"))
    directory.mkdir(parents=True, exist_ok=True)
    key_file, cert_file = directory / "idp.key", directory / "idp.crt"
    if not key_file.exists():
        key_file, cert_file = make_key_pair(directory)
    server = build_server(base_url=base_url, key_file=key_file, cert_file=cert_file)
    app = IdentityProviderApp(server, args.sp_metadata)
    httpd = make_server(
        args.host, args.port, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    print(f"test SAML IdP listening on {base_url}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
