"""Forms of the portal shell."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rathaus.core.uploads import DEFAULT_MAX_FILE_BYTES
from rathaus.portal.models import AccessibilityFeedback


class AccessibilityFeedbackForm(forms.ModelForm[AccessibilityFeedback]):
    """Report a barrier: only the message is required, so people can stay anonymous."""

    class Meta:
        model = AccessibilityFeedback
        fields = ["message", "page_url", "name", "email"]
        labels = {
            "message": _("Which barrier did you find?"),
            "page_url": _("On which page?"),
            "name": _("Your name"),
            "email": _("Your e-mail address"),
        }
        help_texts = {
            "message": _(
                "Describe what did not work for you, for example a form you could not fill in."
            ),
            "page_url": _("The address of the page, for example /leistungen/."),
            "email": _("Only if you would like an answer."),
        }
        widgets = {
            "message": forms.Textarea(attrs={"rows": 6}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
        }
        error_messages = {
            "message": {
                "required": _("Please describe the barrier you found."),
                "max_length": _(
                    "Please shorten your message to at most %(limit_value)d characters."
                ),
            },
            "email": {"invalid": _("Please enter an e-mail address like name@example.de.")},
        }

    def clean_message(self) -> str:
        message: str = self.cleaned_data["message"].strip()
        if not message:
            raise forms.ValidationError(
                _("Please describe the barrier you found."), code="required"
            )
        return message

    def clean_page_url(self) -> str:
        value: str = self.cleaned_data["page_url"].strip()
        if not value:
            return value
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. "http://[x/", an unclosed IPv6 address
            parts = None
        is_path = parts is not None and not parts.scheme and not parts.netloc
        is_web_address = (
            parts is not None and parts.scheme in {"http", "https"} and bool(parts.netloc)
        )
        if not ((is_path and value.startswith("/")) or is_web_address):
            raise forms.ValidationError(
                _("Please enter the page address, for example /leistungen/ or https://…"),
                code="invalid",
            )
        return value


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (documents for a request, attachments of a reply)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


def refuse_large_files(form: forms.Form, field: str, files: list[UploadedFile]) -> None:
    """Errors beside ``field`` for every file over the limit, found by its size before it is
    read into memory (a view under ``core.uploads.file_size_cap`` did not even keep it)."""
    for upload in files:
        if (upload.size or 0) > DEFAULT_MAX_FILE_BYTES:
            form.add_error(
                field,
                f"{upload.name}: "
                + gettext("The file is larger than %(limit)s MB. Please upload a smaller file.")
                % {"limit": DEFAULT_MAX_FILE_BYTES // (1024 * 1024)},
            )
