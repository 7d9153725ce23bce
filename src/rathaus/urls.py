"""Top-level URLs. The German paths are stable (DESIGN.md): e-mails and QR codes link to them."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path, re_path

from rathaus.api.schema_views import SchemaView
from rathaus.api.unknown_paths import UnknownPathView
from rathaus.core.language import set_language

# The admin logs in through allauth (second factor, rate limits), never its own password form.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/v1/", include("rathaus.api.urls")),
    # Any other address under /api/ (an unknown path, a version that does not exist): a 404
    # problem document. Only paths ending in "/": without it, APPEND_SLASH still redirects.
    # [\s\S], not ".": a path may contain a newline (%0A).
    re_path(r"^api/(?:[\s\S]*/)?$", UnknownPathView.as_view()),
    path("admin/", admin.site.urls),
    path("konto/", include("rathaus.portal.account_urls")),
    path("konto/", include("rathaus.accounts.federation_urls")),
    path("konto/", include("allauth.urls")),
    path("leistungen/", include("rathaus.portal.catalog_urls")),
    path("antraege/", include("rathaus.portal.application_urls")),
    path("zahlung/", include("rathaus.portal.payment_urls")),
    path("pruefen/", include("rathaus.portal.verify_urls")),
    path("wohnungsgeberbestaetigung/", include("rathaus.portal.landlord_urls")),
    path("postfach/", include("rathaus.portal.mailbox_urls")),
    path("backoffice/rettungsdienst/", include("rathaus.backoffice.rescue_urls")),
    path("backoffice/", include("rathaus.backoffice.urls")),
    path("", include("rathaus.portal.urls")),
]

# Django's error pages; under /api/ problem documents (what Django refuses before a view runs).
handler400 = "rathaus.api.error_views.bad_request"
handler403 = "rathaus.api.error_views.permission_denied"
handler404 = "rathaus.api.error_views.page_not_found"
handler500 = "rathaus.api.error_views.server_error"
