"""Logging set-up: every line, ours and the libraries' (uvicorn, tortoise), goes through
structlog's formatter: one JSON object a line (`LOYALTY_LOG_FORMAT=json`, the production
default) or key=value text for a terminal. Whatever a request causes carries its
`request_id` (structlog's contextvars, bound by api/observe.py)."""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

import orjson
import structlog

LOG_FORMATS = ("json", "text")
_installed: logging.Handler | None = None
_bound: dict[str, Any] = {}  # bound_logger's, dropped by every configure


def _processors(log_format: str) -> list[Any]:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if log_format == "json":
        shared.append(structlog.processors.format_exc_info)
    return shared


def _orjson_text(value: Any, **_: Any) -> str:
    """structlog's JSON renderer with orjson (a third of the stdlib's time); values orjson
    cannot encode are written as their str()."""
    return orjson.dumps(value, default=str).decode()


def configure(level: str, log_format: str, stream: IO[str] | None = None) -> None:
    """Install (or replace) the one handler on the root logger. Handlers others added (a
    test runner's) stay."""
    global _installed
    shared = _processors(log_format)
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_orjson_text)
        if log_format == "json"
        # The plain traceback: with rich installed (dev tools pull it in) structlog's default
        # draws it with every frame's local variables, keys and members' details included.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
    root.addHandler(handler)
    root.setLevel(level)
    _installed = handler
    # What no renderer here writes, yet each line would pay for (the logging module's own
    # documented optimisations): the caller's frame, found by walking the stack, the
    # process id (a system call), the thread and the multiprocessing process names.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # uvicorn's loggers keep handlers of their own when it configured them: ours replace
    # them. Its access log is off: api/observe.py writes one line a request instead.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").handlers = []
    logging.getLogger("uvicorn.access").propagate = False
    logging.getLogger("tortoise").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    _bound.clear()


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)


def bound_logger(name: str) -> Any:
    """`get_logger`'s logger bound once, for a line written on every request: a lazy
    proxy builds its processor chain again at every call. Kept until the next `configure`
    (structlog's own cache_logger_on_first_use would keep it across one)."""
    if not structlog.is_configured():  # (structlog's defaults: nothing to keep)
        return structlog.stdlib.get_logger(name)
    found = _bound.get(name)
    if found is None:
        found = _bound[name] = structlog.stdlib.get_logger(name).bind()
    return found
