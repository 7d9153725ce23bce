"""REST API v1."""

from django.urls import path, re_path

from rathaus.api import catalog_views, unknown_paths, verify_views

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
    # Last. Only paths ending in "/": without it, APPEND_SLASH still redirects to the real one.
    re_path(r"^(?:.*/)?$", unknown_paths.UnknownPathView.as_view()),
]
