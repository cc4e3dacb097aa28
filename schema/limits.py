"""Protection from expensive or probing documents (OWASP GraphQL cheat sheet), in one list."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from graphql import GraphQLError
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from domain.errors import DomainError
from resolvers.auth import PublicError
from schema.cost import CostLimit

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
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


class ErrorCodes(SchemaExtension):
    """Every error carries a `code`: a domain error raised by a query gets the code a mutation
    error would carry; a document or its variables refused before running (a missing
    argument, a wrong type) gets GRAPHQL_VALIDATION_FAILED."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or ():
            original = error.original_error
            if isinstance(original, DomainError):
                error.extensions = {**(error.extensions or {}), "code": original.code.value}
            elif error.path is None and "code" not in (error.extensions or {}):
                error.extensions = {**(error.extensions or {}), "code": VALIDATION_FAILED}


class ValidationCache(SchemaExtension):
    """Validation results kept per (schema, document, rules), keyed by the document's
    identity. strawberry's own ValidationCache keys an lru_cache by the parsed document, and
    hashing one walks the whole tree on every request (a tenth of a millisecond for the
    member page). The parser cache hands back the very same document for the same text, so
    identity is enough; each entry holds its document, so an id is never reused while its
    entry lives. A document not from the parser cache (none here) is merely validated again."""

    results: ClassVar[dict[tuple[int, int, tuple[Any, ...]], tuple[Any, Any, list[Any]]]] = {}
    hits = 0
    misses = 0

    def on_validate(self) -> Iterator[None]:
        from strawberry.schema.schema import validate_document

        context = self.execution_context
        schema, document = context.schema._schema, context.graphql_document
        rules = tuple(context.validation_rules)
        key = (id(schema), id(document), rules)
        entry = self.results.get(key)
        if entry is None or entry[0] is not schema or entry[1] is not document:
            ValidationCache.misses += 1
            entry = (schema, document, validate_document(schema, document, rules))
            if len(self.results) >= VALIDATION_CACHE_SIZE:
                self.results.pop(next(iter(self.results)))  # the oldest
            self.results[key] = entry
        else:
            ValidationCache.hits += 1
        context.pre_execution_errors = entry[2]
        yield


# The depth and alias rules are built once: QueryDepthLimiter and MaxAliasesLimiter make a
# new rule class per instance, and extensions are instantiated per request, so the rules
# would differ on every request and the validation cache (keyed by them) would never hit.
RULES = [depth_rule(MAX_DEPTH, None, None), aliases_rule(MAX_ALIASES), CostLimit]


def extensions(*, production: bool) -> list[Callable[[], SchemaExtension]]:
    """Factories: strawberry builds fresh extensions per request. The parser and validation
    caches still live across requests (the parser's at module level, keyed by size; ours for
    validation on its class, keyed by schema, document and rules, so the production schema
    never reuses a development validation result)."""
    chosen: list[Callable[[], SchemaExtension]] = [
        lambda: ParserCache(maxsize=PARSE_CACHE_SIZE),
        ValidationCache,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules(RULES),
        ErrorCodes,
    ]
    if production:
        chosen += [DisableIntrospection, lambda: MaskErrors(should_mask_error=should_mask)]
    return chosen
