"""Verification API: ``POST /api/v1/verify/`` (a PDF or its SHA-256) and
``GET /api/v1/verify/<code>/``.

The machine-readable twin of ``/pruefen/``: the same server-side check of the signed checkpoint
and the inclusion proof, the proof itself in the answer so a client can re-check it, and RFC 9457
problem documents for bad input. Public, no authentication, rate-limited per client address
(an IPv6 client per /64 network, ``core.clients.client_key``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import filetype
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rathaus.api.openapi import (
    DocumentVerificationSerializer,
    VerificationResultSerializer,
    problem_responses,
)
from rathaus.api.parsers import JSONParser, MultiPartParser
from rathaus.api.problems import PayloadTooLarge, Throttled
from rathaus.core.uploads import UploadSizeLimit
from rathaus.documents.seal import seal_of_issued
from rathaus.ledger import verification_limits
from rathaus.ledger.leaves import normalize_code
from rathaus.ledger.selectors import verify_code, verify_document, verify_upload
from rathaus.ledger.services import LedgerError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


def max_upload_bytes() -> int:
    return int(getattr(settings, "LEDGER_VERIFY_MAX_BYTES", DEFAULT_MAX_BYTES))


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file sent as multipart/form-data: in the OpenAPI schema a binary string (what a
    generated client sends as a file), not the URI drf-spectacular makes of a FileField."""


class VerifyRequestSerializer(serializers.Serializer[Any]):
    """The PDF as issued (`document`) or its SHA-256 (`sha256`), exactly one of the two, as
    multipart/form-data."""

    # DRF's German for these is informal ("Prüfe den Kodierungstyp …") or technical
    default_error_messages = {
        "invalid": _("Invalid data: expected a JSON object, got {datatype}."),
    }
    document = UploadField(
        required=False,
        help_text="The PDF as issued; it is not stored. Either this or `sha256`.",
        error_messages={
            "invalid": _("The value is not a file: send the PDF as multipart/form-data.")
        },
    )
    sha256 = serializers.CharField(
        required=False,
        max_length=64,
        help_text="Or the document's SHA-256 in hex.",
        error_messages={
            "invalid": _("Send the SHA-256 hash as a string."),
            "max_length": _("A SHA-256 hash has 64 hexadecimal digits."),
        },
    )

    def validate_document(self, upload: Any) -> str:
        upload.seek(0)
        kind = filetype.guess(upload.read(1024))
        if kind is None or kind.mime != "application/pdf":
            raise ValidationError(gettext("The file is not a PDF document."))
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        return digest.hexdigest()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("document" in attrs) == ("sha256" in attrs):
            raise ValidationError(
                gettext("Send either a document or its sha256, not both or neither.")
            )
        return attrs


class VerifyHashRequestSerializer(serializers.Serializer[Any]):
    """The document's SHA-256 as JSON; the PDF itself is sent as multipart/form-data."""

    sha256 = serializers.CharField(
        max_length=64, help_text="The document's SHA-256 in hex (64 hexadecimal digits)."
    )


def _throttle(request: Request, kind: str) -> None:
    client = str(request.META.get("REMOTE_ADDR") or "unknown")
    if not verification_limits.consume(kind=kind, client=client):
        raise Throttled(wait=verification_limits.retry_after(kind))


class VerifyDocumentView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser, JSONParser]
    renderer_classes = [JSONRenderer]

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body: an oversized upload is stopped while it arrives,
        # not spooled in full and measured afterwards (as on /pruefen/).
        self.upload_limit = UploadSizeLimit(request, max_upload_bytes())
        request.upload_handlers = [self.upload_limit, *request.upload_handlers]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        summary="Verify a document",
        request={
            "multipart/form-data": VerifyRequestSerializer,
            "application/json": VerifyHashRequestSerializer,
        },
        responses={
            200: OpenApiResponse(
                DocumentVerificationSerializer,
                description="What the log says about the document (see the fields); `seal` "
                "only for an uploaded file the log knows.",
            ),
            **problem_responses(400, 406, 413, 415, 429),
        },
        description="Checks a PDF (or its SHA-256) against the GovChain log. Bad input gives a "
        "400 problem document, a file over the size limit a 413, too many requests a 429.",
    )
    def post(self, request: Request) -> Response:
        _throttle(request, "upload")
        data = request.data
        if self.upload_limit.exceeded:
            megabytes = self.upload_limit.limit // (1024 * 1024)
            raise PayloadTooLarge(
                gettext("The file is larger than %(megabytes)d MB.") % {"megabytes": megabytes}
            )
        body = VerifyRequestSerializer(data=data)
        body.is_valid(raise_exception=True)
        try:
            if "document" in body.validated_data:
                result = verify_upload(
                    data["document"], document_sha256=body.validated_data["document"]
                )
            else:
                result = verify_document(document_sha256=body.validated_data["sha256"])
        except LedgerError as exc:
            raise ValidationError({"sha256": [str(exc)]}) from exc
        answer = result.as_json()
        if "document" in body.validated_data and result.entry is not None:
            # the very file this portal issued: its seal too (a hash alone has none to check)
            seal = result.seal
            if seal is None:
                upload = data["document"]
                upload.seek(0)
                seal = seal_of_issued(upload.read())
            answer["seal"] = seal.as_json() if seal is not None else None
        return Response(answer)


class VerifyCodeView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Look up a verification code",
        responses={
            200: OpenApiResponse(
                VerificationResultSerializer,
                description="What the log says about the document (see the fields).",
            ),
            **problem_responses(404, 406, 429),
        },
        description="What the log says about the document printed with this code. An unknown "
        "code gives a 404 problem document.",
    )
    def get(self, request: Request, code: str) -> Response:
        _throttle(request, "code")
        normalized = normalize_code(code)
        result = verify_code(normalized) if normalized else None
        if result is None:
            raise NotFound(gettext("No document was issued with this code."))
        return Response(result.as_json())
