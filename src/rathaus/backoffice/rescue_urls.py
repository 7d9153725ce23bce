"""URLs of the preRESC planner page; included under /backoffice/rettungsdienst/."""

from django.urls import path

from rathaus.backoffice import rescue_views

app_name = "rescue_planner"

urlpatterns = [
    path("", rescue_views.planner, name="planner"),
]
