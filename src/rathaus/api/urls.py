"""REST API v1."""

from django.urls import path

from rathaus.api import catalog_views, verify_views

app_name = "api"
urlpatterns = [
    path("services/", catalog_views.ServiceListView.as_view(), name="service-list"),
    path(
        "services/<slug:slug>/",
        catalog_views.ServiceDetailView.as_view(),
        name="service-detail",
    ),
    path("verify/", verify_views.VerifyDocumentView.as_view(), name="verify"),
    path("verify/<str:code>/", verify_views.VerifyCodeView.as_view(), name="verify-code"),
]
