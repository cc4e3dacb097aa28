"""One POST to a receiver, safely: the host is resolved here and, in production, every address it
resolves to must be public (SSRF); the connection then goes to the checked address itself (the
Host header and TLS name stay the URL's), so a second DNS answer cannot swap in another one.
Redirects are not followed, the whole exchange has one deadline, and at most `max_bytes` of the
answer are read."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from domain.webhooks import Attempt, is_forbidden_address, response_excerpt

TIMEOUT_SECONDS = 15.0
MAX_RESPONSE_BYTES = 64 * 1024


class Refused(Exception):
    """The URL may not be called (it resolves to an address we do not reach)."""


@dataclass(frozen=True)
class Target:
    url: str  # with the address in place of the host
    host_header: str
    tls_name: str | None


async def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]  # a literal needs no lookup
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise Refused(f"cannot resolve the host ({error.strerror})") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def resolve(url: str, *, allow_private: bool) -> Target:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _addresses(host, port)
    if not addresses:
        raise Refused("the host has no address")
    if not allow_private and any(is_forbidden_address(a) for a in addresses):
        raise Refused("the host resolves to a private, loopback or link-local address")
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    default_port = port == (443 if parts.scheme == "https" else 80)
    host_header = host if default_port else f"{host}:{port}"
    if ":" in host and not default_port:
        host_header = f"[{host}]:{port}"
    return Target(pinned, host_header, host if parts.scheme == "https" else None)


def client(max_connections: int = 100) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=httpx.Timeout(TIMEOUT_SECONDS),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=20),
        trust_env=False,  # no proxy from the environment: it would see the secrets' output
    )


async def post(
    http: httpx.AsyncClient,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes,
    allow_private: bool,
    timeout: float = TIMEOUT_SECONDS,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> Attempt:
    """Never raises for what the receiver does: a refusal, timeout or broken connection is an
    Attempt with an `error`."""
    started = time.perf_counter()

    def done(status: int | None, answer: bytes, error: str | None) -> Attempt:
        latency = int((time.perf_counter() - started) * 1000)
        return Attempt(status, latency, response_excerpt(answer), error)

    try:
        async with asyncio.timeout(timeout):
            target = await resolve(url, allow_private=allow_private)
            extensions = {"sni_hostname": target.tls_name} if target.tls_name else {}
            request = http.build_request(
                "POST",
                target.url,
                headers={
                    **headers,
                    "Host": target.host_header,
                    "Content-Type": "application/json",
                    "User-Agent": "loyalty-webhooks/1",
                },
                content=body,
                extensions=extensions,
            )
            response = await http.send(request, stream=True)
            try:
                answer = bytearray()
                async for chunk in response.aiter_raw():
                    answer += chunk
                    if len(answer) >= max_bytes:
                        break  # the rest is not read: a receiver cannot make us hold more
            finally:
                await response.aclose()
            return done(response.status_code, bytes(answer[:max_bytes]), None)
    except Refused as refused:
        return done(None, b"", str(refused))
    except TimeoutError:
        return done(None, b"", f"no answer within {timeout:g} s")
    except httpx.HTTPError as error:
        return done(None, b"", f"{type(error).__name__}: {error}"[:200])
