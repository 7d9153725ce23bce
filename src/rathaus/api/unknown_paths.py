"""Any other path under ``/api/``: a 404 problem document instead of the HTML page."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

NO_ENDPOINT = _("There is no API endpoint at this address.")


class UnknownPathView(APIView):
    """Answers every method with 404, so a wrong path is not mistaken for a wrong method."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    schema = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound(NO_ENDPOINT)
