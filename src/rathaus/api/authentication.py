"""Session authentication of the API: DRF's, with a failed CSRF check in the request's language
(DRF's message is English only)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from drf_spectacular.authentication import SessionScheme as DRFSessionScheme
from rest_framework import authentication, exceptions
from rest_framework.request import Request


def _unused(request: HttpRequest) -> HttpResponse:  # pragma: no cover - the check never calls it
    return HttpResponse(status=500)


class SessionAuthentication(authentication.SessionAuthentication):
    def enforce_csrf(self, request: Request) -> None:
        check = authentication.CSRFCheck(_unused)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
        if reason:
            # Django's reason ("CSRF cookie not set.") is quoted as it is
            message = gettext("CSRF Failed: %(reason)s")
            raise exceptions.PermissionDenied(message % {"reason": reason})


class SessionScheme(DRFSessionScheme):
    """Its OpenAPI security scheme: the session cookie, as for DRF's class."""

    target_class = "rathaus.api.authentication.SessionAuthentication"
