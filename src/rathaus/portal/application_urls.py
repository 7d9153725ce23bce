"""/antraege/: "Meine Anträge" and the application form flow."""

from django.urls import path

from rathaus.portal import application_views as views
from rathaus.portal import case_views

app_name = "applications"
urlpatterns = [
    path("", views.my_applications, name="list"),
    path("neu/<slug:service_slug>/", views.start, name="start"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/schritt/<slug:step_id>/", views.step, name="step"),
    path("<uuid:public_id>/pruefen/", views.review, name="review"),
    path("<uuid:public_id>/loeschen/", views.delete_draft, name="delete"),
    path("<uuid:public_id>/bezahlen/", views.pay, name="pay"),
    path("<uuid:public_id>/eingangsbestaetigung.pdf", views.receipt, name="receipt"),
    path(
        "<uuid:public_id>/unterlagen/<uuid:request_id>/",
        case_views.answer_request,
        name="answer_request",
    ),
    path("<uuid:public_id>/zurueckziehen/", case_views.withdraw, name="withdraw"),
]
