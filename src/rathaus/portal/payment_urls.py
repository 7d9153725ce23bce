"""Citizen-facing payment addresses, mounted at /zahlung/ (stable: providers redirect here)."""

from django.urls import path

from rathaus.portal import payment_views as views

app_name = "payments"

urlpatterns = [
    path("<uuid:request_id>/rueckkehr/", views.payment_return, name="return"),
    path("<uuid:request_id>/", views.payment_status, name="status"),
]
