"""One addressing rule (README, "Addressing"): an object that has a key of the shop's own is
addressed by that key - members by `memberExternalId`, orders by `orderId`, coupons by
`code`, coupon templates by `templateCode`, products by `sku` - and an object only this API
names (holds, ledger rows) by its global `id`. Older inputs that address the same objects
another way keep working, deprecated; this module reconciles the two spellings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from domain.errors import invalid

T = TypeVar("T")

TEMPLATE_ID_DEPRECATED = "Use templateCode: templates are addressed by the code you gave them."
EXTERNAL_ID_DEPRECATED = "Use memberExternalId, the name every other input uses."


def either(new: T | None, old: T | None, *, new_name: str, old_name: str) -> T | None:
    """The value given under the current name or the deprecated one; both only if equal."""
    if new is not None and old is not None and new != old:
        raise invalid(new_name, f"give {new_name} or {old_name}, not two different values")
    return new if new is not None else old


async def then(first: Awaitable[T], action: Callable[[T], Awaitable[Any]]) -> Any:
    """`action(await first)`: lets a lookup that may fail as a domain error (an unknown
    templateCode) run inside a mutation's result_of, so it is reported as data."""
    return await action(await first)
