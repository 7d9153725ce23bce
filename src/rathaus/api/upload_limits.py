"""An upload handler that stops a request's files at a size limit while they arrive."""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest


class UploadSizeLimit(FileUploadHandler):
    """First upload handler: counts the bytes of all files and stops the upload once they pass
    ``limit``, before the rest is written anywhere (the other handlers never see it).

    The same as the ``/pruefen/`` page's handler (``portal.verify_views._SizeLimit``); the API
    layer may not import the portal. Check ``exceeded`` after the body is parsed.
    """

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            # connection_reset=False: Django reads and discards the rest, so the client still
            # gets the answer; nothing more is stored.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
