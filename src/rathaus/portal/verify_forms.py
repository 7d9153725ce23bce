"""Forms of the public verification page (/pruefen/): a PDF to check, or a printed code."""

from __future__ import annotations

import hashlib
from typing import Any

import filetype
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from rathaus.ledger.leaves import normalize_code

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# Browsers send these for a PDF; the bytes decide, the claim only has to be plausible.
PLAUSIBLE_CONTENT_TYPES = {"application/pdf", "application/x-pdf", "application/octet-stream", ""}


def max_upload_bytes() -> int:
    return int(getattr(settings, "LEDGER_VERIFY_MAX_BYTES", DEFAULT_MAX_BYTES))


class DocumentForm(forms.Form):
    """The PDF is hashed and discarded at once; it is never stored."""

    document = forms.FileField(
        label=_("Document (PDF)"),
        error_messages={
            "required": _("Please choose the PDF document you want to check."),
            "empty": _("The file is empty. Please choose the PDF document you received."),
            "invalid": _("Please choose a PDF file."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = max_upload_bytes() // (1024 * 1024)
        self.fields["document"].help_text = _(
            "The PDF exactly as you received it, at most %(limit)s MB."
        ) % {"limit": limit}
        self.sha256 = ""

    def clean_document(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["document"]
        if upload.size is not None and upload.size > max_upload_bytes():
            raise forms.ValidationError(self.too_large_message(), code="too_large")
        claimed = (upload.content_type or "").split(";")[0].strip().lower()
        upload.seek(0)
        head = upload.read(1024)
        kind = filetype.guess(head)
        if claimed not in PLAUSIBLE_CONTENT_TYPES or kind is None or kind.mime != "application/pdf":
            raise forms.ValidationError(
                _(
                    "This file is not a PDF document. Only PDF documents issued by the city "
                    "can be checked."
                ),
                code="not_pdf",
            )
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        self.sha256 = digest.hexdigest()
        return upload

    def refuse_as_too_large(self) -> None:
        """The upload handler stopped the file at the limit: say so, not "choose a file"."""
        self.is_valid()
        self.errors.pop("document", None)
        self.add_error("document", forms.ValidationError(self.too_large_message(), "too_large"))

    @staticmethod
    def too_large_message() -> str:
        return str(
            _("The file is larger than %(limit)s MB. Documents issued by the city are smaller.")
            % {"limit": max_upload_bytes() // (1024 * 1024)}
        )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        help_text=_("The code printed next to the QR code, for example 7KQ4M-2XH9P."),
        max_length=40,
        error_messages={
            "required": _("Please enter the verification code printed on the document."),
            "max_length": _("A verification code has ten letters and digits, like 7KQ4M-2XH9P."),
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )

    def clean_code(self) -> str:
        code = normalize_code(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                _("A verification code has ten letters and digits, like 7KQ4M-2XH9P."),
                code="invalid",
            )
        return code
