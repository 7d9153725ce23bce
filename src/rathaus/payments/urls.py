"""Citizen-facing payment addresses, mounted at /zahlung/ (stable: providers redirect here)."""

from django.urls import path

from rathaus.payments import views

app_name = "payments"

urlpatterns = [
    path("<uuid:request_id>/rueckkehr/", views.payment_return, name="return"),
    path("<uuid:request_id>/", views.payment_status, name="status"),
]
