"""The hook through which a higher module inspects uploaded files while a step is checked.

The form engine checks what the schema declares (number of files, size, accepted endings); the
``applications`` module plugs in content sniffing and virus scanning by passing an object with
this interface to :func:`rathaus.forms.engine.validate_step`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from django.core.files.uploadedfile import UploadedFile

if TYPE_CHECKING:
    from rathaus.forms.schema import Field


class UploadInspector(Protocol):
    def inspect(self, upload: UploadedFile, *, field: Field) -> str | None:
        """A message for the person if the file must be refused, ``None`` if it is fine.

        Called once per new upload that passed the engine's own checks. Must not raise on bad
        content; a scanner that is unreachable should return a message asking to try again.
        """
        ...
