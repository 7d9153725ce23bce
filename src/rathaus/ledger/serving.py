"""Serving the published log from a local directory (FileSystemStorage) as a public, cacheable
set of static files.

:class:`PublishedLogMiddleware` answers below the log's address (``MEDIA_URL`` +
``LEDGER_PUBLISH_PREFIX``, e.g. ``/media/govchain/checkpoint``) before the session and language
middleware run: the answer does not vary by cookie or language, sets no cookie, and carries the
``Cache-Control`` each file allows. With an object store (S3) the files are not served here.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from django.core.files.storage import FileSystemStorage
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseNotFound
from django.views.static import serve

from rathaus.ledger.publication import cache_control, content_type, ledger_storage, storage_name


class PublishedLogMiddleware:
    """Serve GET and HEAD requests for the published log's files; pass on everything else.

    Place it right after ``WhiteNoiseMiddleware`` in ``MIDDLEWARE``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method in ("GET", "HEAD"):
            storage = ledger_storage()
            if isinstance(storage, FileSystemStorage):
                try:
                    base = urllib.parse.urlsplit(storage.url(storage_name(""))).path
                except ValueError:  # no MEDIA_URL: the files have no address here
                    base = ""
                if base.endswith("/") and request.path_info.startswith(base):
                    return _serve(request, storage, request.path_info[len(base) :])
        return self.get_response(request)


def _serve(request: HttpRequest, storage: FileSystemStorage, path: str) -> HttpResponseBase:
    parts = path.split("/")
    # no directories, no temporary files of a publication in progress (".checkpoint….tmp")
    if not path or any(not part or part.startswith(".") for part in parts):
        return HttpResponseNotFound()
    try:
        response: HttpResponseBase = serve(
            request, path, document_root=storage.path(storage_name(""))
        )
    except Http404:
        return HttpResponseNotFound()
    control = cache_control(path)
    if control is not None:
        response["Cache-Control"] = control
    if response.status_code == 200:
        response["Content-Type"] = content_type(path)
    response["Access-Control-Allow-Origin"] = "*"  # a public log: any monitor may read it
    return response
