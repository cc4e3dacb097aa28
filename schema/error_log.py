"""What reaches the log from a GraphQL answer (STYLE 11, RELIABILITY 31). strawberry logs
every error at ERROR with its traceback, so a caller without a key could write kilobytes of
log per request. Here a bug is logged that way; the caller's own errors (no credential, bad
input, a refused document) are not logged here at all: the HTTP view writes one INFO line
per request for them. Errors caused by an unavailable database are the view's too (one line,
and a 503)."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError

from db.connection import is_unavailable
from schema.limits import is_readable

log = logging.getLogger("loyalty.graphql")


class LoggedSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            if is_readable(error) or is_unavailable(error.original_error):
                continue
            path = ".".join(str(p) for p in error.path or ())
            log.error("unexpected error at %s", path or "(root)", exc_info=error.original_error)
