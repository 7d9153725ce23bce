"""Service catalog pages, mounted at ``/leistungen/`` (stable German paths)."""

from django.urls import path

from rathaus.portal import catalog_views

urlpatterns = [
    path("", catalog_views.catalog, name="catalog"),
    path("<slug:slug>/", catalog_views.service_detail, name="catalog-service"),
]
