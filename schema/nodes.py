from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay
from strawberry.relay import GlobalID
from strawberry.relay.types import GlobalIDValueError

from resolvers.auth import InvalidArgument
from resolvers.ids import INT4_MAX, parse_id


async def resolve_node(info: strawberry.Info, id: str) -> Any:
    """Decode a global id and ask its type for the node; a type we do not have is not found."""
    try:
        global_id = GlobalID.from_id(id)
    except GlobalIDValueError as error:
        raise InvalidArgument("`id` is not a global id this API gave out") from error
    type_def = info.schema.get_type_by_name(global_id.type_name)
    origin = getattr(type_def, "origin", None)
    if not (isinstance(origin, type) and issubclass(origin, relay.Node)):
        return None
    node_id = parse_id(global_id.node_id, maximum=getattr(origin, "max_id", INT4_MAX))
    if node_id is None:
        return None
    nodes = await origin.resolve_nodes(info=info, node_ids=[str(node_id)], required=False)
    found = list(nodes) if not isinstance(nodes, list) else nodes
    return found[0] if found else None
