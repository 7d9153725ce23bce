"""Serializers of the catalog API (read-only)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from rathaus.catalog.models import Responsibility, Service


class ServiceListSerializer(serializers.ModelSerializer[Service]):
    name = serializers.CharField(help_text="Name in the requested language (Accept-Language).")
    url = serializers.HyperlinkedIdentityField(view_name="api:service-detail", lookup_field="slug")

    class Meta:
        model = Service
        fields = ["slug", "name", "leika_key", "trust_level", "online", "url"]


class AuthoritySerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    kind = serializers.CharField()
    municipality = serializers.CharField(source="municipality.name")
    address = serializers.CharField()
    opening_hours = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    website = serializers.CharField()


class ResponsibilitySerializer(serializers.ModelSerializer[Responsibility]):
    municipality: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    authority = AuthoritySerializer(read_only=True)
    shared = serializers.BooleanField(
        source="is_shared", help_text="Handled by another municipality (“Einer für Alle”)."
    )
    local_fee = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)

    class Meta:
        model = Responsibility
        fields = ["municipality", "authority", "shared", "local_fee"]


class FeeSerializer(serializers.Serializer[Any]):
    label = serializers.CharField()  # type: ignore[assignment]
    amount = serializers.DecimalField(max_digits=8, decimal_places=2)
    min_age = serializers.IntegerField(allow_null=True)
    max_age = serializers.IntegerField(allow_null=True)


class LegalBasisSerializer(serializers.Serializer[Any]):
    title = serializers.CharField()
    url = serializers.CharField()


class ServiceDetailSerializer(serializers.ModelSerializer[Service]):
    name = serializers.CharField()
    summary = serializers.CharField()
    description = serializers.CharField()
    plain_language = serializers.CharField(
        source="plain_language_de", help_text="Leichte Sprache (German)."
    )
    processing_time = serializers.CharField()
    documents = serializers.ListField(child=serializers.CharField(), source="document_list")
    fees = FeeSerializer(many=True, source="fee_list")
    fee_note = serializers.CharField()
    legal_basis = LegalBasisSerializer(many=True, source="legal_basis_list")
    life_situations: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    external_provider = serializers.CharField()
    responsibilities = ResponsibilitySerializer(many=True, read_only=True)

    class Meta:
        model = Service
        fields = [
            "slug",
            "name",
            "leika_key",
            "trust_level",
            "online",
            "summary",
            "description",
            "plain_language",
            "processing_time",
            "documents",
            "fee_kind",
            "fees",
            "fee_note",
            "legal_basis",
            "life_situations",
            "authority_kind",
            "external_provider",
            "external_url",
            "responsibilities",
        ]
