"""``{% form_step schema step_id data=request.POST result=result answers=answers %}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.safestring import SafeString

from rathaus.forms.engine import StepResult
from rathaus.forms.rendering import render_step
from rathaus.forms.schema import FormSchema

register = template.Library()


@register.simple_tag
def form_step(
    schema: FormSchema,
    step_id: str,
    data: Mapping[str, Any] | None = None,
    result: StepResult | None = None,
    answers: Mapping[str, Any] | None = None,
) -> SafeString:
    """A step's fields with its error summary (:func:`rathaus.forms.rendering.render_step`)."""
    return render_step(schema, step_id, data=data, result=result, answers=answers)
