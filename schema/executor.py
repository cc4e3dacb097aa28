"""A planned executor for queries: the same answers as graphql-core's, at a fraction of the
cost per field.

graphql-core decides afresh, for every field of every object of every request, which field
definition applies, which resolver to call, what the return type is and how to complete it
(~7 µs a field; a member page has ~400 fields). A query's document does not change between
requests - APQ and the parser cache hand us the very same parsed operation each time - so
this executor works that out once per (schema, operation) into a plan: for each selection,
the response key, a getter or resolver, and a completer closure for its type. A request
then walks the plan.

It takes the narrow road only. A plan is made for queries without directives, fragment
variables, abstract types or introspection fields; anything else runs on graphql-core as
before. And on the road, anything unexpected - a resolver raising (a permission error, a
domain error, a bug), a null where the schema says non-null, a leaf that does not
serialise, an object of the wrong type - abandons the plan and runs the whole operation
again on graphql-core, so errors, their paths and null propagation are exactly graphql-
core's. Queries read; running one twice costs time, not correctness. Mutations and
subscriptions never take the plan.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from datetime import datetime
from math import isfinite
from operator import attrgetter
from types import GeneratorType
from typing import Any

from graphql import (
    DirectiveNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    is_leaf_type,
    is_object_type,
    visit,
)
from graphql.execution.collect_fields import (
    CollectedFields,
    FieldDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import get_argument_values
from graphql.language import FieldNode, VariableNode, Visitor
from graphql.pyutils import Path, Undefined
from prometheus_client import Counter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.types.base_scalars import isoformat
from strawberry.types.base import StrawberryMaybe, StrawberryOptional

from schema.identity_cache import IdentityCache
from schema.input_checks import problems_in, unguarded

PLAN_CACHE_SIZE = 512
DEFINITION = "strawberry-definition"  # where strawberry keeps a GraphQLField's own field
RUNS = Counter(
    "loyalty_graphql_plan_runs_total",
    "Queries by how they ran: planned, unplanned (graphql-core) or abandoned (planned, "
    "then run again on graphql-core after an error or an unexpected value)",
    ["outcome"],
)
PLANNED, UNPLANNED, ABANDONED = (RUNS.labels(o) for o in ("planned", "unplanned", "abandoned"))


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_AWAITS: dict[type, bool] = {}  # by type: does it have __await__ (coroutines, futures)


def _is_awaitable(value: Any) -> bool:
    """inspect.isawaitable, decided once per type rather than by ABC checks per value (it
    is asked for every field). Generators need the per-value answer: an old-style
    @types.coroutine generator is awaitable, a plain one is not."""
    kind = type(value)
    known = _AWAITS.get(kind)
    if known is None:
        if kind is GeneratorType:
            return inspect.isawaitable(value)
        known = _AWAITS[kind] = hasattr(kind, "__await__")
    return known


def _leaf_coercer(type_: Any) -> Callable[[Any], Any]:
    """The type's own output coercion, with the common cases of the built-in scalars first
    (graphql-core would return these values unchanged)."""

    def coerce(value: Any) -> Any:
        out = type_.coerce_output_value(value)
        if out is None or out is Undefined:
            raise Bail
        return out

    if type_ is GraphQLString or type_ is GraphQLID:
        return lambda v: v if type(v) is str else coerce(v)
    if type_ is GraphQLBoolean:
        return lambda v: v if type(v) is bool else coerce(v)
    if type_ is GraphQLInt:
        return lambda v: v if type(v) is int and _INT_MIN <= v <= _INT_MAX else coerce(v)
    if type_ is GraphQLFloat:
        return lambda v: v if type(v) is float and isfinite(v) else coerce(v)
    if getattr(type_, "serialize", None) is isoformat:  # strawberry's DateTime (and Date, Time)
        return lambda v: v.isoformat() if type(v) is datetime else coerce(v)
    wrapped = getattr(type_, "wrapped_cls", None)  # a strawberry enum: members to names
    if wrapped is not None:
        names: dict[Any, str] = {}
        for name, value in type_.values.items():
            names.setdefault(wrapped(value.value), name)  # the first name wins, as strawberry's
        return lambda v: names[v] if type(v) is wrapped and v in names else coerce(v)
    return coerce


class Bail(Exception):
    """Leave the plan; graphql-core runs the operation instead."""


class Unplannable(Exception):
    """The document uses something the planner does not handle."""


# A completer turns what a resolver returned into response JSON, or an awaitable of it.
Completer = Callable[["Run", Any, Path | None], Any]

TYPENAME, LEAF, GENERAL = 0, 1, 2  # how a FieldPlan runs

# A field's Python resolver called directly: (source, graphql-core's info, its arguments).
Direct = Callable[[Any, Any, dict[str, Any]], Any]
# What strawberry's own wrappers of a resolver are called (schema_converter.from_resolver).
_STRAWBERRY_RESOLVERS = frozenset(
    f"GraphQLCoreConverter.from_resolver.<locals>.{name}"
    for name in ("_resolver", "_async_resolver")
)


class FieldPlan:
    """One response key of one selection. LEAF: a plain attribute holding a scalar or enum,
    read and coerced inline (most fields); GENERAL: a resolver or a nested value, completed
    by `complete`; TYPENAME: the parent type's name."""

    __slots__ = (
        "args", "coerce", "complete", "direct", "field_def", "getter", "key", "kind",
        "literal_args", "nodes", "non_null", "resolve", "sync", "takes_args",
    )  # fmt: skip

    def __init__(self, key: str, kind: int) -> None:
        self.key = key
        self.kind = kind
        self.sync = False  # GENERAL: read by its getter, completed without awaiting
        # Arguments written as literals only (`first: 20`) are the same on every request:
        # graphql-core's values for them, worked out on the first and kept here.
        self.literal_args = False
        self.args: dict[str, Any] | None = None


class ObjectPlan:
    """The fields to run on one object type for one selection."""

    __slots__ = (
        "fields", "is_type_of", "leaves", "needs_path", "seen_types", "sync", "type",
        "type_name",
    )  # fmt: skip

    def __init__(self, type_: GraphQLObjectType, fields: list[FieldPlan], needs_path: bool) -> None:
        self.type = type_
        # An object of leaves only (a template, a ledger row, a benefit): what each field
        # needs, unpacked once, for the short loop in Run.object.
        self.leaves = (
            tuple((f.key, f.getter, f.coerce, f.non_null) for f in fields)
            if fields and all(f.kind == LEAF for f in fields)
            else None
        )
        # Completed without anything to await, however deep (a wallet's edges, nodes and
        # templates): no awaitable to look for in what its fields give.
        self.sync = all(f.kind != GENERAL or f.sync for f in fields)
        self.type_name = type_.name
        self.is_type_of = type_.is_type_of
        # Python classes is_type_of has accepted: strawberry's answers by class (we use no
        # strawberry.cast), and it is asked for every object of every list.
        self.seen_types: set[type] = set()
        self.fields = fields
        # Paths are built only where a resolver below will be handed one in its info.
        self.needs_path = needs_path


class _HasVariable(Visitor):
    found = False

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.found = True


def _has_variables(node: FieldNode) -> bool:
    """Whether a field's arguments name a variable anywhere (in a list or an input too)."""
    seen = _HasVariable()
    for argument in node.arguments or ():
        visit(argument, seen)
    return seen.found


class _HasDirective(Visitor):
    found = False

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.found = True


def _uses_directives(executor: PlannedExecutor) -> bool:
    seen = _HasDirective()
    visit(executor.operation, seen)
    for fragment in executor.fragment_definitions.values():
        visit(fragment, seen)
    return seen.found


class Planner:
    def __init__(self, executor: PlannedExecutor) -> None:
        self.executor = executor
        strawberry_schema = getattr(executor.schema, "_strawberry_schema", None)
        self.strawberry = strawberry_schema
        self.plain_getattr = strawberry_schema is not None and (
            strawberry_schema.config.default_resolver is getattr
        )
        self.resolvers_below = False  # set while planning an object's fields

    def root(self) -> ObjectPlan:
        executor = self.executor
        root_type = executor.schema.query_type
        if root_type is None:
            raise Unplannable
        collected = collect_fields(
            executor.schema,
            executor.fragments,
            executor.variable_values,
            root_type,
            executor.operation,
            executor.hide_suggestions,
        )
        return self.object_plan(root_type, collected)

    def object_plan(self, type_: GraphQLObjectType, collected: CollectedFields) -> ObjectPlan:
        grouped, defer_usages, _ = collected
        if defer_usages:
            raise Unplannable
        fields: list[FieldPlan] = []
        needs_path = False
        for key, details in grouped.items():
            if any(d.fragment_variable_values or d.defer_usage for d in details):
                raise Unplannable
            name = details[0].node.name.value
            if name == "__typename":
                fields.append(FieldPlan(key, TYPENAME))
                continue
            if name.startswith("__"):
                raise Unplannable
            field_def = type_.fields.get(name)
            if field_def is None:
                raise Unplannable
            getter = self.getter(field_def)
            non_null = isinstance(field_def.type, GraphQLNonNull)
            inner = field_def.type.of_type if non_null else field_def.type  # type: ignore[union-attr]
            if getter is not None and is_leaf_type(inner):
                field = FieldPlan(key, LEAF)
                field.coerce = _leaf_coercer(inner)
            else:
                field = FieldPlan(key, GENERAL)
                outer, self.resolvers_below = self.resolvers_below, False
                field.complete = self.completer(field_def.type, details)
                needs_path = needs_path or getter is None or self.resolvers_below
                self.resolvers_below = outer
            field.getter = getter
            field.sync = (
                field.kind == GENERAL
                and getter is not None
                and getattr(field.complete, "sync", False)  # set on completers that never await
            )
            field.non_null = non_null
            field.field_def = field_def
            field.nodes = [d.node for d in details]
            field.resolve = field_def.resolve
            field.direct = self.direct(field_def) if getter is None else None
            field.takes_args = bool(field_def.args or details[0].node.arguments)
            field.literal_args = field.takes_args and not _has_variables(details[0].node)
            fields.append(field)
        self.resolvers_below = self.resolvers_below or needs_path
        return ObjectPlan(type_, fields, needs_path)

    def getter(self, field_def: GraphQLField) -> Callable[[Any], Any] | None:
        """A plain attribute read for strawberry's basic fields (no resolver, no extensions)."""
        field = (field_def.extensions or {}).get(DEFINITION)
        resolve = field_def.resolve
        if (
            field is not None
            and self.plain_getattr
            and getattr(resolve, "_is_default", False)
            and not field.base_resolver
        ):
            return attrgetter(field.python_name)
        return None

    def direct(self, field_def: GraphQLField) -> Direct | None:
        """The field's own Python resolver, called as strawberry's wrapper would call it, for
        the plain case only: strawberry's wrapper is the field's resolve, or the resolve behind
        the input checks' guard (schema/input_checks.py), whose checks the call then runs
        itself - any problem leaves the plan, and graphql-core answers it through the guard;
        no field extensions or exception handlers, no parent or root parameter. Arguments of
        built-in scalars are handed over as strawberry hands them (unchanged, renamed to their
        Python names); a request giving any other argument (an enum, a list, an input) goes
        through strawberry's wrapper, which converts it. Anything else: the wrapper."""
        field = (field_def.extensions or {}).get(DEFINITION)
        strawberry_schema = self.strawberry
        resolve = field_def.resolve
        checks = None
        behind = unguarded(resolve) if resolve is not None else None
        if behind is not None:
            resolve, checks = behind
        resolver = getattr(field, "base_resolver", None)
        if (
            strawberry_schema is None
            or resolver is None
            or field.extensions
            or getattr(resolve, "__qualname__", "") not in _STRAWBERRY_RESOLVERS
            or strawberry_schema.schema_converter._get_field_exception_handlers(field)
            or resolver.parent_parameter is not None
            or resolver.root_parameter is not None
            or not callable(resolver.wrapped_func)
        ):
            return None
        config = strawberry_schema.config
        names = []
        # arguments strawberry converts, when given: (graphql name, python name, whether a
        # null stays None - strawberry's conversion of a null, but for a Maybe)
        converted = []
        for argument in field.arguments:
            kind = argument.type
            if isinstance(kind, StrawberryOptional) and not isinstance(kind, StrawberryMaybe):
                kind = kind.of_type
            name = config.name_converter.from_argument(argument)
            if kind in (int, str, bool, float):
                names.append((name, argument.python_name))
            else:
                null_stays = not isinstance(argument.type, StrawberryMaybe)
                converted.append((name, argument.python_name, null_stays))
        function = resolver.wrapped_func
        takes_self = resolver.self_parameter is not None
        info_name = resolver.info_parameter.name if resolver.info_parameter else None
        info_class = config.info_class
        wrapper = resolve

        def call(source: Any, info: Any, args: dict[str, Any]) -> Any:
            if checks is not None and problems_in(checks, args):
                raise Bail
            kwargs = {python: args[name] for name, python in names if name in args}
            for name, python, null_stays in converted:
                if name in args:
                    if args[name] is not None or not null_stays:
                        return wrapper(source, info, **args)
                    kwargs[python] = None
            if info_name is not None:
                kwargs[info_name] = info_class(_raw_info=info, _field=field)
            return function(source, **kwargs) if takes_self else function(**kwargs)

        return call

    def completer(self, type_: GraphQLOutputType, details: list[FieldDetails]) -> Completer:
        """A completer never returns None for a value that is not None (leaves coerce
        strictly, objects give dicts), so a non-null type only has to refuse a None value."""
        non_null = isinstance(type_, GraphQLNonNull)
        inner = type_.of_type if non_null else type_  # type: ignore[union-attr]
        if isinstance(inner, GraphQLList):
            item = self.completer(inner.of_type, details)
            if getattr(item, "sync", False):
                return _sync_list_completer(item, non_null)
            return _list_completer(item, non_null)
        if is_leaf_type(inner):
            coerce = _leaf_coercer(inner)

            def leaf(run: Run, value: Any, path: Path | None) -> Any:
                if value is None:
                    if non_null:
                        raise Bail
                    return None
                return coerce(value)

            leaf.sync = True  # type: ignore[attr-defined]
            return leaf
        if is_object_type(inner):
            executor = self.executor
            collected = collect_subfields(
                executor.schema,
                executor.fragments,
                executor.variable_values,
                executor.operation,
                inner,  # type: ignore[arg-type]
                details,
                executor.hide_suggestions,
            )
            plan = self.object_plan(inner, collected)  # type: ignore[arg-type]
            run_object = Run.object

            def obj(run: Run, value: Any, path: Path | None) -> Any:
                if value is None:
                    if non_null:
                        raise Bail
                    return None
                return run_object(run, plan, value, path)

            obj.sync = plan.sync  # type: ignore[attr-defined]
            return obj
        raise Unplannable  # unions and interfaces: graphql-core decides the runtime type


def _sync_list_completer(item: Completer, non_null: bool) -> Completer:
    """A list of items completed without awaiting (see ObjectPlan.sync)."""

    def complete_sync_list(run: Run, value: Any, path: Path | None) -> Any:
        if value is None:
            if non_null:
                raise Bail
            return None
        if path is None:
            return [item(run, element, None) for element in value]
        return [item(run, element, Path(path, n, None)) for n, element in enumerate(value)]

    complete_sync_list.sync = True  # type: ignore[attr-defined]
    return complete_sync_list


def _list_completer(item: Completer, non_null: bool) -> Completer:
    def complete_list(run: Run, value: Any, path: Path | None) -> Any:
        if value is None:
            if non_null:
                raise Bail
            return None
        out = []
        pending: list[int] = []
        try:
            for index, element in enumerate(value):
                done = item(run, element, None if path is None else Path(path, index, None))
                if _is_awaitable(done):
                    pending.append(index)
                out.append(done)
        except BaseException:
            _discard([out[index] for index in pending])
            raise
        if not pending:
            return out
        return _fill(out, pending)

    return complete_list


def _discard(*groups: list[Any]) -> None:
    """A plan left part way (Bail, or a resolver raised) awaits nothing it had started:
    its coroutines are closed, so none is reported as never awaited and none runs later."""
    for group in groups:
        for awaitable in group:
            if inspect.iscoroutine(awaitable):
                awaitable.close()


async def _fill(out: list[Any] | dict[str, Any], keys: list[Any]) -> Any:
    """Await the awaitables at `keys` of `out` together and put their values in place."""
    if len(keys) == 1:
        out[keys[0]] = await out[keys[0]]  # type: ignore[index]
        return out
    values = await asyncio.gather(*(out[k] for k in keys), return_exceptions=True)  # type: ignore[index]
    for key, value in zip(keys, values, strict=True):
        if isinstance(value, BaseException):
            raise value
        out[key] = value  # type: ignore[index]
    return out


async def _after(awaitable: Awaitable[Any], field: FieldPlan, run: Run, path: Path | None) -> Any:
    done = field.complete(run, await awaitable, path)
    return await done if _is_awaitable(done) else done


class Run:
    """One request walking a plan."""

    __slots__ = ("executor",)

    def __init__(self, executor: PlannedExecutor) -> None:
        self.executor = executor

    def object(self, plan: ObjectPlan, source: Any, path: Path | None) -> Any:
        if plan.is_type_of is not None and type(source) not in plan.seen_types:
            if not plan.is_type_of(source, None):
                raise Bail
            plan.seen_types.add(type(source))
        out: dict[str, Any] = {}
        leaves = plan.leaves
        if leaves is not None:
            for key, get, coerce, non_null in leaves:
                value = get(source)
                if value is not None:
                    out[key] = coerce(value)
                elif non_null:
                    raise Bail
                else:
                    out[key] = None
            return out
        pending: list[str] = []
        made: list[Any] = []  # resolvers' awaitables, each inside a pending _after
        try:
            for field in plan.fields:
                kind = field.kind
                if kind == LEAF:
                    value = field.getter(source)
                    if value is not None:
                        out[field.key] = field.coerce(value)
                    elif field.non_null:
                        raise Bail
                    else:
                        out[field.key] = None
                    continue
                if kind == TYPENAME:
                    out[field.key] = plan.type_name
                    continue
                key = field.key
                field_path = Path(path, key, plan.type_name) if plan.needs_path else None
                if field.getter is not None:
                    value = field.getter(source)
                    if field.sync:
                        out[key] = field.complete(self, value, field_path)
                        continue
                else:
                    value = self.resolve(field, source, field_path, plan.type)
                    if _is_awaitable(value):
                        made.append(value)
                        out[key] = _after(value, field, self, field_path)
                        pending.append(key)
                        continue
                done = field.complete(self, value, field_path)
                if _is_awaitable(done):
                    pending.append(key)
                out[key] = done
        except BaseException:
            _discard([out[key] for key in pending], made)
            raise
        if not pending:
            return out
        return _fill(out, pending)

    def resolve(
        self, field: FieldPlan, source: Any, path: Path | None, parent_type: GraphQLObjectType
    ) -> Any:
        executor = self.executor
        info = executor.build_resolve_info(field.field_def, field.nodes, parent_type, path)
        args = field.args
        if args is None:
            args = (
                get_argument_values(
                    field.field_def,
                    field.nodes[0],
                    executor.variable_values,
                    None,
                    executor.hide_suggestions,
                )
                if field.takes_args
                else {}
            )
            if field.literal_args or not field.takes_args:
                field.args = args  # the same on every request (FieldPlan)
        if field.direct is not None:
            return field.direct(source, info, args)
        return field.resolve(source, info, **args)


def _wraps_resolvers(manager: Any) -> bool:
    """strawberry passes a middleware manager on every request; it only matters when a
    schema extension wraps resolvers (none of ours does)."""
    return manager is not None and manager._middleware_resolvers is not None


class PlannedExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, taking the plan for queries it can plan (module docstring)."""

    # per (schema, operation); None for an operation that cannot be planned
    plans: IdentityCache[ObjectPlan | None] = IdentityCache(PLAN_CACHE_SIZE)

    def execute_operation(self, serially: bool | None = None) -> Any:
        operation = self.operation
        if (
            operation.operation is not OperationType.QUERY
            or serially
            or _wraps_resolvers(self.middleware_manager)
            or self.abort_signal is not None
        ):
            return super().execute_operation(serially)
        plan = self.plan_for(operation)
        if plan is None:
            UNPLANNED.inc()
            return super().execute_operation(serially)
        try:
            data = Run(self).object(plan, self.root_value, None)
        except Exception:  # Bail, or a resolver raised: graphql-core places the error
            ABANDONED.inc()
            return super().execute_operation(serially)
        if _is_awaitable(data):
            return self._finish(data, serially)
        PLANNED.inc()
        return self.build_response(data)

    async def _finish(self, data: Awaitable[dict[str, Any]], serially: bool | None) -> Any:
        try:
            done = await data
        except Exception:
            ABANDONED.inc()
            result = super().execute_operation(serially)
            return await result if _is_awaitable(result) else result
        PLANNED.inc()
        return self.build_response(done)

    def plan_for(self, operation: OperationDefinitionNode) -> ObjectPlan | None:
        return PlannedExecutor.plans.get(self.schema, operation, self._plan)

    def _plan(self) -> ObjectPlan | None:
        try:
            return None if _uses_directives(self) else Planner(self).root()
        except Unplannable:
            return None
