"""REST API v1."""

from django.urls import path

app_name = "api"
urlpatterns: list = []  # type: ignore[type-arg]
