"""REST API v1."""

from django.urls import path

from rathaus.api import catalog_views

app_name = "api"
urlpatterns = [
    path("services/", catalog_views.ServiceListView.as_view(), name="service-list"),
    path(
        "services/<slug:slug>/",
        catalog_views.ServiceDetailView.as_view(),
        name="service-detail",
    ),
]
