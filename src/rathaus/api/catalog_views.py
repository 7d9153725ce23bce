"""Catalog API: ``/api/v1/services/`` and ``/api/v1/services/<slug>/`` (read-only)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from rathaus.api.catalog_serializers import ServiceDetailSerializer, ServiceListSerializer
from rathaus.api.openapi import problem_responses
from rathaus.api.throttles import CatalogThrottle
from rathaus.catalog import selectors
from rathaus.catalog.models import LifeSituation, Responsibility, Service
from rathaus.core.models import Municipality


class ServiceFilterSerializer(serializers.Serializer[Any]):
    # DRF's German for these is informal ("Stelle sicher, …") or technical ("Objekt mit slug=…")
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        error_messages={"max_length": _("Enter at most {max_length} characters.")},
    )
    life_situation = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=LifeSituation.objects.all(),
        required=False,
        error_messages={"does_not_exist": _("There is no life situation with the slug “{value}”.")},
    )
    municipality = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Municipality.objects.all(),
        required=False,
        error_messages={"does_not_exist": _("There is no municipality with the slug “{value}”.")},
    )


_FILTERS = [
    OpenApiParameter(
        "q",
        OpenApiTypes.STR,
        description="Search words (German-aware: umlauts or ae/oe/ue, partial words).",
    ),
    OpenApiParameter(
        "life_situation",
        OpenApiTypes.STR,
        description="Slug of a life situation, e.g. `umzug`, `auto-verkehr`.",
    ),
    OpenApiParameter(
        "municipality",
        OpenApiTypes.STR,
        description="Slug of a municipality: only services handled for its residents.",
    ),
]


@extend_schema_view(
    get=extend_schema(
        summary="List services",
        description="Active services of the catalog, name matches first when searching; "
        "`limit` is at most 100. Invalid filter values give a 400 problem document, too many "
        "requests a 429.",
        parameters=_FILTERS,
        responses={200: ServiceListSerializer, **problem_responses(400, 406, 429)},
    )
)
class ServiceListView(generics.ListAPIView[Service]):
    serializer_class = ServiceListSerializer
    renderer_classes = [JSONRenderer]
    permission_classes = [AllowAny]
    throttle_classes = [CatalogThrottle]

    def get_queryset(self) -> QuerySet[Service]:  # pragma: no cover - list() is overridden
        return Service.objects.none()

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        filters = ServiceFilterSerializer(data=request.query_params)
        if not filters.is_valid():
            raise ValidationError(filters.errors)
        services = selectors.search_services(
            query=filters.validated_data.get("q", ""),
            life_situation=filters.validated_data.get("life_situation"),
            municipality=filters.validated_data.get("municipality"),
        )
        page = self.paginate_queryset(services)  # type: ignore[arg-type]
        serializer = self.get_serializer(page if page is not None else services, many=True)
        if page is not None:
            return self.get_paginated_response(serializer.data)
        return Response(serializer.data)


@extend_schema_view(
    get=extend_schema(
        summary="Service details",
        description="Everything a citizen needs, with the responsible authority per "
        "municipality. An unknown slug gives a 404 problem document, too many requests a 429.",
        responses={200: ServiceDetailSerializer, **problem_responses(404, 406, 429)},
    )
)
class ServiceDetailView(generics.RetrieveAPIView[Service]):
    serializer_class = ServiceDetailSerializer
    renderer_classes = [JSONRenderer]
    permission_classes = [AllowAny]
    throttle_classes = [CatalogThrottle]
    lookup_field = "slug"

    def get_queryset(self) -> QuerySet[Service]:
        return Service.objects.filter(is_active=True).prefetch_related(
            "life_situations",
            Prefetch(
                "responsibilities",
                queryset=Responsibility.objects.select_related(
                    "municipality", "authority__municipality"
                ).order_by("municipality__name"),
            ),
        )

    def get_object(self) -> Service:
        try:
            return super().get_object()
        except Http404:
            # Django's message names the model in English: "No Service matches the given query."
            raise NotFound(gettext("There is no service with this slug.")) from None
