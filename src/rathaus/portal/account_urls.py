"""/konto/: Rathaus' own account pages; allauth's pages (login, 2fa, …) follow under /konto/."""

from django.urls import path

from rathaus.portal import account_views

app_name = "account"
urlpatterns = [
    path("", account_views.overview, name="overview"),
    path("profil/", account_views.profile, name="profile"),
    path("daten-export/", account_views.export, name="export"),
    path("daten-export/herunterladen/", account_views.export_download, name="export_download"),
    path("loeschen/", account_views.delete, name="delete"),
]
