"""/wohnungsgeberbestaetigung/: landlords confirm a move-in online (§ 19 BMG)."""

from django.urls import path

from rathaus.portal import landlord_views

app_name = "landlord"
urlpatterns = [
    path("", landlord_views.confirmation_list, name="list"),
    path("neu/", landlord_views.confirmation_new, name="new"),
    path("<uuid:public_id>/", landlord_views.confirmation_detail, name="detail"),
    path("<uuid:public_id>/bestaetigung.pdf", landlord_views.confirmation_pdf, name="pdf"),
    path("<uuid:public_id>/widerrufen/", landlord_views.confirmation_revoke, name="revoke"),
]
