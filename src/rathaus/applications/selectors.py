"""Reads of applications, filtered by who asks: a citizen sees only their own."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.service_context import ContextLine, ContextRules, StartChoice
from rathaus.applications.service_rules import rules_for
from rathaus.core.models import Municipality


def applications_of(*, user: User) -> QuerySet[Application]:
    return Application.objects.filter(applicant=user).select_related(
        "service", "municipality", "authority", "case"
    )


def application_list_of(*, user: User) -> QuerySet[Application]:
    """The citizen's applications for "Meine Anträge": only the columns the list shows.

    Answers, submitted declarations and the services' long texts stay in the database; a
    citizen's list is read on every visit and must not grow with what they entered.
    """
    return (
        applications_of(user=user)
        .only(
            "public_id",
            "status",
            "current_step",
            "expires_at",
            "updated_at",
            "submitted_at",
            "reference",
            "applicant_id",
            "context",
            "service__slug",
            "service__name_de",
            "service__name_en",
            "case__status",
            "municipality_id",
            "authority_id",
            "service_id",
            "case_id",
        )
        .select_related(None)
        .select_related("service", "case")
        .order_by("-updated_at")
    )


def applied_for(*, service_slug: str, context: Mapping[str, Any] | None) -> list[ContextLine]:
    """What the application is for beyond its service, as lines to show ("Wahl: Europawahl am
    9. Juni 2029"): the choice the service's rules kept in ``Application.context``."""
    rules = rules_for(service_slug)
    if not isinstance(context, Mapping) or not context or not isinstance(rules, ContextRules):
        return []
    return rules.describe(context=context)


def start_question(*, service_slug: str, municipality: Municipality) -> StartChoice | None:
    """The question the start page asks for ``service_slug`` in ``municipality`` before a draft
    opens (which election), or None; starts nothing (a GET shows it again)."""
    rules = rules_for(service_slug)
    return rules.question(municipality=municipality) if isinstance(rules, ContextRules) else None


def application_for_citizen(*, user: User, public_id: str | uuid.UUID) -> Application:
    """The citizen's own application, or 404 (never 403: another's ids are not even confirmed)."""
    try:
        return applications_of(user=user).get(public_id=public_id)
    except (Application.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def personal_data_export(user: User) -> list[dict[str, object]]:
    """Every application of the citizen, for the GDPR export (Art. 15, 20)."""
    return [
        {
            "reference": application.reference,
            "service": application.service.slug,
            "municipality": application.municipality.name,
            "authority": str(application.authority) if application.authority else None,
            "status": application.status,
            "created_at": application.created_at.isoformat(),
            "submitted_at": application.submitted_at.isoformat()
            if application.submitted_at
            else None,
            "answers": application.submitted_data or application.answers,
            "attachments": [
                {"name": a.original_name, "size": a.size, "sha256": a.sha256}
                for a in application.attachments.all()
            ],
        }
        for application in applications_of(user=user).prefetch_related("attachments")
    ]
