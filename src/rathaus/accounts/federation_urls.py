"""Citizen-account login under /konto/ (stable: the IdPs know the SAML and OIDC addresses)."""

from django.urls import path

from rathaus.accounts import federation_views as views

app_name = "federation"

urlpatterns = [
    path("vertrauensniveau/", views.step_up, name="step_up"),
    path("extern/abschluss/<uuid:attempt_id>/", views.finish, name="finish"),
    path("extern/bestaetigen/", views.reauthenticate, name="reauthenticate"),
    path("extern/<slug:slug>/anmelden/", views.start, name="start"),
    path("extern/<slug:slug>/saml/acs/", views.saml_acs, name="saml_acs"),
    path("extern/<slug:slug>/saml/metadata/", views.saml_metadata, name="saml_metadata"),
    path("extern/<slug:slug>/oidc/callback/", views.oidc_callback, name="oidc_callback"),
]
