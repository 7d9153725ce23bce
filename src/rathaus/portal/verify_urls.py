"""/pruefen/: public verification of issued documents (QR codes on printed documents link here)."""

from django.urls import path

from rathaus.portal import verify_views

app_name = "verify"
urlpatterns = [
    path("", verify_views.verify, name="index"),
    path("<str:code>", verify_views.verify_by_code, name="code"),
    path("<str:code>/", verify_views.verify_by_code),
]
