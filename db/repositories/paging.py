"""Keyset paging by id in either direction (domain/paging.py decides which)."""

from __future__ import annotations

from typing import TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from domain.paging import PageRequest, walks_descending

M = TypeVar("M", bound=Model)


def keyset(query: QuerySet[M], request: PageRequest, *, list_descending: bool) -> QuerySet[M]:
    """The query narrowed past the cursor, walking away from it, one row beyond the page."""
    down = walks_descending(request, list_descending=list_descending)
    if request.cursor is not None:
        query = query.filter(id__lt=request.cursor) if down else query.filter(id__gt=request.cursor)
    return query.order_by("-id" if down else "id").limit(request.size + 1)
