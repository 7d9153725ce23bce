"""Citizen-account login under /konto/ (stable: the IdPs know the SAML and OIDC addresses), and
the checks in front of two allauth pages (``guarded_views``)."""

from django.urls import path

from rathaus.accounts import federation_views as views
from rathaus.accounts import guarded_views

app_name = "federation"

urlpatterns = [
    path("vertrauensniveau/", views.step_up, name="step_up"),
    path("extern/abschluss/<uuid:attempt_id>/", views.finish, name="finish"),
    path("extern/bestaetigen/", views.reauthenticate, name="reauthenticate"),
    path("extern/<slug:slug>/anmelden/", views.start, name="start"),
    path("extern/<slug:slug>/saml/acs/", views.saml_acs, name="saml_acs"),
    path("extern/<slug:slug>/saml/metadata/", views.saml_metadata, name="saml_metadata"),
    path("extern/<slug:slug>/oidc/callback/", views.oidc_callback, name="oidc_callback"),
    # allauth's pages with a check in front: these addresses are included before allauth's,
    # which keep their names (account_set_password, mfa_remove_webauthn) for reverse()
    path("password/set/", guarded_views.password_set, name="guarded_password_set"),
    path(
        "2fa/webauthn/keys/<int:pk>/remove/",
        guarded_views.remove_passkey,
        name="guarded_remove_passkey",
    ),
]
