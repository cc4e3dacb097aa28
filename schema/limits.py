"""Protection from expensive or probing documents (OWASP GraphQL cheat sheet), in one list."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import ClassVar

from graphql import DocumentNode, GraphQLError, NoSchemaIntrospectionCustomRule, parse
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from domain.errors import DomainError, ErrorCode
from resolvers.auth import PublicError
from schema.identity_cache import IdentityCache
from schema.redaction import redact, written_names

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
# graphql-core's words for a value its enum does not have, whether written in the document
# ("Value 'YEAR' does not exist in 'InsightsGranularity' enum.", or for a quoted "YEAR": "Enum
# 'InsightsGranularity' cannot represent non-enum value") or sent in a variable ("Variable '$g'
# got invalid value 'YEAR'; Value 'YEAR' does not exist in ...", or for a number: "... cannot
# represent non-string value").
UNKNOWN_ENUM_VALUE = re.compile(
    r"Value .+ does not exist in '\w+' enum|Enum '\w+' cannot represent non-(?:enum|string) value"
)
MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000
MAX_BATCH = 10
PARSE_CACHE_SIZE = 512
VALIDATION_CACHE_SIZE = 512


def is_readable(error: GraphQLError) -> bool:
    """Errors about the request itself are meant for the caller: syntax, validation and
    variable coercion (raised before execution, so without a path), auth and domain errors.
    Anything else raised while resolving is a bug, and is masked in production."""
    if error.path is None:
        return True
    original = error.original_error
    return original is None or isinstance(
        original, (PublicError, DomainError, GraphQLError, StrawberryInputCoercionError)
    )


def should_mask(error: GraphQLError) -> bool:
    return not is_readable(error)


def _with_codes(errors: list[GraphQLError]) -> None:
    """Every error carries a `code`: a domain error raised by a query gets the code a mutation
    error would carry; a value an enum argument does not have (a granularity, a segment, a
    status) is bad input like any other, VALIDATION; anything else that makes a document or
    its variables refused before running (an unknown field, a missing argument, a wrong type)
    gets GRAPHQL_VALIDATION_FAILED. Either way nothing ran."""
    for error in errors:
        original = error.original_error
        if isinstance(original, DomainError):
            error.extensions = {**(error.extensions or {}), "code": original.code.value}
        elif error.path is None and "code" not in (error.extensions or {}):
            code = (
                ErrorCode.VALIDATION.value
                if UNKNOWN_ENUM_VALUE.search(error.message)
                else VALIDATION_FAILED
            )
            error.extensions = {**(error.extensions or {}), "code": code}


def _masked(error: GraphQLError) -> GraphQLError:
    """A bug's error as the caller sees it in production: where, not what. The original error
    stays attached (it is never sent), so the HTTP layer can still tell an outage."""
    if not should_mask(error):
        return error
    return GraphQLError(
        "Unexpected error.",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
    )


# The depth and alias rules are built once: their factories make a new rule class per call,
# and the validation cache is keyed by the rules.
RULES = (depth_rule(MAX_DEPTH, None, None), aliases_rule(MAX_ALIASES))
PRODUCTION_RULES = (*RULES, NoSchemaIntrospectionCustomRule)
_parse = lru_cache(maxsize=PARSE_CACHE_SIZE)(parse)


def parse_document(query: str) -> DocumentNode:
    """The parsed document, from the parser cache (the HTTP layer reads it before the
    operation runs: the same call, so the same cache entry)."""
    return _parse(query, max_tokens=MAX_TOKENS)


class Guard(SchemaExtension):
    """All we do around an operation, as one extension: a bounded token count, a parse cache,
    our validation rules (plus no introspection in production), a validation cache, error
    codes and, in production, masked bugs. strawberry drives each extension's hooks through
    generators on every request; as seven extensions (five of strawberry's, two of ours)
    this was a tenth of the fixed cost of a request. Results are masked once, at the end of
    the operation: there are no subscriptions or incremental delivery (were either turned
    on, streamed results would need an on_stream_result hook like MaskErrors has).

    Validation results are kept per (schema, document, rules), by the document's identity
    (schema/identity_cache.py): strawberry's own ValidationCache hashes the whole parsed
    document on every request."""

    validations: ClassVar[IdentityCache[list[GraphQLError]]] = IdentityCache(VALIDATION_CACHE_SIZE)

    def __init__(self, *, production: bool) -> None:
        self.production = production

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = context.validation_rules + (
            PRODUCTION_RULES if self.production else RULES
        )
        yield
        result = context.result
        errors = getattr(result, "errors", None)
        if errors:
            _with_codes(errors)
            if self.production:
                written = written_names(context.query, context.variables)
                for error in errors:
                    if error.path is None:
                        error.message = redact(error.message, written)
                result.errors = [_masked(error) for error in errors]  # type: ignore[union-attr]

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = parse_document(context.query)  # type: ignore[arg-type]
        yield

    def on_validate(self) -> Iterator[None]:
        from strawberry.schema.schema import validate_document

        context = self.execution_context
        schema, document = context.schema._schema, context.graphql_document
        rules = tuple(context.validation_rules)
        context.pre_execution_errors = self.validations.get(
            schema, document, lambda: validate_document(schema, document, rules), rules
        )
        yield


def extensions(*, production: bool) -> list[Callable[[], SchemaExtension]]:
    """Factories: strawberry builds fresh extensions per request; the caches live on."""
    return [lambda: Guard(production=production)]
