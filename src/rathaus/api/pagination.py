"""Pagination of the API's lists (``REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"]``)."""

from __future__ import annotations

from rest_framework import pagination


class CappedLimitOffsetPagination(pagination.LimitOffsetPagination):
    """``?limit=&offset=`` pages of ``PAGE_SIZE`` items; a larger ``limit`` is cut to
    ``max_limit``, so one request never renders the whole table (the ``next`` link goes on)."""

    max_limit = 100
