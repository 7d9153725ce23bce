"""The OpenAPI description of what the views answer beyond a model serializer: verification
results (``Verification.as_json``, ``SealStatus.as_json``) and RFC 9457 problem documents.

These serializers only describe; the views build the answers themselves.
``tests/api/test_schema.py`` compares a real answer's fields with them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from rathaus.api.problems import PROBLEM_CONTENT_TYPE
from rathaus.ledger.selectors import Status


class ProblemSerializer(serializers.Serializer[Any]):
    """`title`, `detail` and the messages under `errors` are in the request's language
    (`Accept-Language` or the language cookie, German by default; `Content-Language` names
    it); the other members are the same in every language."""

    type = serializers.CharField(help_text='Always "about:blank" (RFC 9457 § 4.2.1).')
    title = serializers.CharField(
        help_text="The HTTP status phrase in the request's language (`Accept-Language`, German "
        "by default), e.g. “Bad Request” or “Fehlerhafte Anfrage”."
    )
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(
        help_text="What was wrong with this request, in the request's language."
    )
    instance = serializers.CharField(help_text="The address asked for, with its query string.")


class ValidationProblemSerializer(ProblemSerializer):
    # the metaclass takes the field out of the class: Serializer.errors stays as it is
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(),
        required=False,
        help_text="The messages per field name (a list of texts in the request's language, "
        "nested for nested fields); `non_field_errors` for the request as a whole.",
    )


#: What each error status means, for every operation that can answer it.
_MEANINGS = {
    400: "The request is malformed or a value is invalid (field errors under `errors`).",
    404: "Nothing is known under this address.",
    406: "The client accepts no JSON (`Accept`).",
    413: "The request body is over the size limit.",
    415: "The request body is of a content type the operation does not read.",
    429: "Too many requests from this client (an IPv6 client: its /64); see `Retry-After`.",
}


def problem_responses(*statuses: int) -> dict[Any, OpenApiResponse]:
    """``extend_schema(responses=…)`` entries: each status as an ``application/problem+json``
    document."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            response=ValidationProblemSerializer if status == 400 else ProblemSerializer,
            description=_MEANINGS[status],
        )
        for status in statuses
    }


class IssuingAuthoritySerializer(serializers.Serializer[Any]):
    name = serializers.CharField(help_text="As logged when the document was issued.")
    municipality = serializers.CharField()
    ags = serializers.CharField(help_text="Amtlicher Gemeindeschlüssel of the municipality.")
    kind = serializers.CharField()


class RevocationSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="The revocation's own verification code.")
    reason = serializers.CharField(allow_null=True)
    reason_label = serializers.CharField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    log_index = serializers.IntegerField(allow_null=True)
    proof_verified = serializers.BooleanField()


class CheckpointSerializer(serializers.Serializer[Any]):
    origin = serializers.CharField()
    size = serializers.IntegerField(help_text="Number of entries of the log.")
    root_hash = serializers.CharField(help_text="Base64.")
    signed_note = serializers.CharField(help_text="The checkpoint as signed (C2SP signed note).")


class EvidenceSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(
        choices=["seal", "signature_timestamp", "archive_timestamp"],
        help_text="The seal, its time stamp, or a document time stamp (oldest first).",
    )
    time = serializers.DateTimeField(
        allow_null=True, help_text="A time stamp's time; a seal's signing time (unproven)."
    )
    algorithms = serializers.ListField(
        child=serializers.CharField(), help_text='e.g. ["SHA-256", "RSA-3072"]'
    )
    weak_today = serializers.ListField(
        child=serializers.CharField(), help_text="Those of them no longer secure today."
    )
    weak_since = serializers.DateField(
        allow_null=True, help_text="Since when the first of them is not (its sunset)."
    )
    covered_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Time of the first later time stamp covering it; null: judged by today.",
    )
    holds = serializers.BooleanField(
        help_text="Its algorithms were secure when it was covered (uncovered: are secure today)."
    )


class SealSerializer(serializers.Serializer[Any]):
    sealed = serializers.BooleanField()
    valid = serializers.BooleanField(
        help_text="A seal is present, nothing was appended after it, the signature is intact "
        "and its certificate chains up to a trust root."
    )
    signer = serializers.CharField()
    signed_at = serializers.DateTimeField(allow_null=True)
    timestamp = serializers.DateTimeField(allow_null=True)
    long_term = serializers.BooleanField()
    archive_timestamp = serializers.DateTimeField(allow_null=True)
    level = serializers.CharField(help_text='PAdES level: B-B, B-T, B-LT, B-LTA ("" unsealed).')
    outcome = serializers.ChoiceField(
        choices=["valid", "valid_by_renewal", "not_valid"],
        help_text="valid_by_renewal: an algorithm of the chain is weak today, but a later time "
        "stamp covered it while it was still secure (RFC 4998, ETSI TS 119 312 sunsets).",
    )
    evidence = EvidenceSerializer(many=True)
    problem = serializers.CharField()


class VerificationResultSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=[str(s) for s in Status])
    document_sha256 = serializers.CharField(
        allow_null=True, help_text="SHA-256 of the checked file (or the hash sent), hex."
    )
    issued_sha256 = serializers.CharField(
        allow_null=True,
        help_text="SHA-256 of the document as issued and logged (differs for a renewed copy).",
    )
    code = serializers.CharField(allow_null=True, help_text="The verification code.")
    document_type = serializers.CharField(allow_null=True)
    document_type_label = serializers.CharField(allow_null=True)
    authority = IssuingAuthoritySerializer(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    log_index = serializers.IntegerField(allow_null=True)
    revoked = serializers.BooleanField()
    revocation = RevocationSerializer(allow_null=True)
    proof_verified = serializers.BooleanField(
        help_text="The inclusion proof against the signed checkpoint was checked and holds."
    )
    error = serializers.CharField(allow_null=True, help_text="What failed (status `failed`).")
    renewed_copy = serializers.BooleanField(
        help_text="The file is the issued document with renewed archive time stamps."
    )
    checkpoint = CheckpointSerializer(allow_null=True)
    inclusion_proof = serializers.ListField(
        child=serializers.CharField(), allow_null=True, help_text="Hashes, base64."
    )


class DocumentVerificationSerializer(VerificationResultSerializer):
    seal = SealSerializer(
        allow_null=True,
        required=False,
        help_text="For an uploaded file the log knows: its electronic seal.",
    )
