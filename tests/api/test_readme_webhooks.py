"""The README's webhook receiver works as printed: it accepts a delivery signed as the deliverer
signs it, once per webhook-id, and refuses a forged one."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from domain.webhooks import format_secret, signature_header

README = Path(__file__).resolve().parents[2] / "README.md"


def receiver_code() -> str:
    section = README.read_text().split("## Webhooks", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the Webhooks section has no Python example"
    return found.group(1)


async def test_the_readme_receiver_verifies_a_delivery():
    secret = format_secret(b"k" * 32)
    code = receiver_code().replace('"whsec_..."', repr(secret))
    scope: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), scope)
    body = b'{"id":"e1","type":"tier.changed","data":{"version":1}}'
    stamp = int(time.time())
    headers = {
        "webhook-id": "e1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature_header(
            [secret], message_id="e1", timestamp=stamp, body=body
        ),
    }
    transport = httpx.ASGITransport(app=scope["app"])
    async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
        ok = await client.post("/loyalty-hooks", content=body, headers=headers)
        forged = await client.post(
            "/loyalty-hooks", content=body.replace(b"tier", b"tear"), headers=headers
        )
    assert ok.status_code == 204
    assert forged.status_code == 400
    assert scope["seen"] == {"e1"}
