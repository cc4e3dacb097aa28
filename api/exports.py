"""GET /exports/members/<link token>: a member's export, streamed (issue 18.2). The link comes
from `exportMember` or `viewer { export }` and lasts five minutes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from api.settings import Settings
from services import privacy_export
from services import tokens as token_service


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )


async def member_export(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    found = token_service.verify_export(request.path_params["token"], settings.jwt)
    if found is None:
        return _error(401, "UNAUTHENTICATED", "this export link is not valid or has expired")
    if not await privacy_export.exists(*found):
        return _error(404, "NOT_FOUND", "no such member")
    return StreamingResponse(
        privacy_export.stream(*found),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="member-export.json"',
            "Cache-Control": "no-store",
        },
    )
