"""/backoffice/: the clerks' work queue, case pages and statistics (German paths, stable)."""

from django.urls import path

from rathaus.backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("zuweisen/", views.bulk_assign, name="bulk_assign"),
    path("statistik/", views.statistics, name="statistics"),
    path("vorgaenge/<int:pk>/", views.case_detail, name="case"),
    path("vorgaenge/<int:pk>/protokoll/", views.audit_trail, name="audit_trail"),
    path(
        "vorgaenge/<int:pk>/bescheide/<int:notice_pk>/bescheid.pdf",
        views.notice_pdf,
        name="notice_pdf",
    ),
    path(
        "vorgaenge/<int:pk>/akte/versionen/<int:version_pk>/",
        views.document_version,
        name="document_version",
    ),
    path("vorgaenge/<int:pk>/<slug:action>/", views.case_action, name="case_action"),
    path(
        "vorgaenge/<int:pk>/<slug:action>/<int:target>/",
        views.case_action,
        name="case_target_action",
    ),
]
