"""Privacy types shared by the member page and the admin queries."""

from __future__ import annotations

from datetime import datetime

import strawberry

from services.privacy_export import ExportLink


@strawberry.type(description="Where to download a member's data: one JSON document.")
class MemberExport:
    url: str = strawberry.field(
        description="GET it (a path on this server) within five minutes; it needs no header."
    )
    expires_at: datetime = strawberry.field(description="When the link stops working.")

    @classmethod
    def from_link(cls, link: ExportLink | None) -> MemberExport | None:
        return None if link is None else cls(url=link.path, expires_at=link.expires_at)
