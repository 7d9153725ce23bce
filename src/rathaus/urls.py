"""Top-level URLs. The German paths are stable (DESIGN.md): links in e-mails and QR codes use them."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

# The admin logs in through allauth (second factor, rate limits), never its own password form.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/", include("rathaus.api.urls")),
    path("admin/", admin.site.urls),
    path("konto/", include("rathaus.portal.account_urls")),
    path("konto/", include("allauth.urls")),
    path("leistungen/", include("rathaus.portal.catalog_urls")),
    path("antraege/", include("rathaus.portal.application_urls")),
    path("zahlung/", include("rathaus.payments.urls")),
    path("backoffice/rettungsdienst/", include("rathaus.backoffice.rescue_urls")),
    path("", include("rathaus.portal.urls")),
]
