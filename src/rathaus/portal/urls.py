"""Citizen-facing pages of the portal shell: start page, accessibility and legal pages."""

from django.urls import path

from rathaus.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("leichte-sprache/", views.easy_language, name="easy_language"),
    path("gebaerdensprache/", views.sign_language, name="sign_language"),
    path("barrierefreiheit/", views.accessibility, name="accessibility"),
    path("impressum/", views.imprint, name="imprint"),
    path("datenschutz/", views.privacy, name="privacy"),
]
