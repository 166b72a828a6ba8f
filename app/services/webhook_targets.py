"""Where a webhook may post: public addresses only, checked when saved and when connecting.

A webhook URL is chosen by a team owner and fetched by the server, so without a check it is a
way to reach what only the server can reach (server-side request forgery): the loopback
interface, the private network, link-local cloud metadata (169.254.169.254). Refused: every
address Python's `ipaddress` does not call global, and multicast; an IPv4 address inside IPv6
(`::ffff:10.0.0.1`, 6to4, Teredo) is judged as the IPv4 address it carries.

The save-time check (`refuse_private_target`) names the field; a host that does not resolve
yet is let through, since DNS can be down for a moment and the check that counts comes later.
The delivery-time check is in the connection itself (`GuardedBackend`): the host is resolved
once, every address it resolves to must be allowed, and the socket connects to that checked
address, so a name that changed (or answers differently each time) since it was saved gets
nowhere. `Settings.webhook_allow_private_targets` turns both off for development and for the
tests' local receiver (docs/adr/0017).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from app.services.accounts import AccountError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _carried(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo), else the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]  # the client's address
    return address


def refusal(address: Address) -> str | None:
    """What kind of address a webhook may not post to `address` is ("loopback" ...), or None."""
    inner = _carried(address)
    mapped = isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None
    # A mapped address is the IPv4 one on a dual-stack socket (::ffff:0:0/96 itself counts as
    # reserved); 6to4 and Teredo are routed as IPv6 too, so both are judged.
    for candidate in (inner,) if mapped else (inner, address):
        if candidate.is_loopback:
            return "loopback"
        if candidate.is_link_local:
            return "link-local"
        if candidate.is_multicast:
            return "multicast"
        if candidate.is_reserved or candidate.is_unspecified:
            return "reserved"  # before private: Python counts 0.0.0.0/8 and 240/4 as both
        if candidate.is_private:
            return "private"
        if not candidate.is_global:
            return "reserved"
    return None


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (a literal address is itself); `OSError` if none."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # The scope of a link-local IPv6 address (fe80::1%eth0) is cut: the address is what counts.
    return list(
        dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found)
    )


def _literal(host: str) -> Address | None:
    """The address a host names literally (`10.0.0.1`, `[::1]`), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def first_refusal(host: str, addresses: list[Address]) -> str | None:
    """Why `host` is refused (naming the address and its kind), or None when every address it
    resolves to is allowed."""
    for address in addresses:
        kind = refusal(address)
        if kind is not None:
            if len(addresses) == 1 and _literal(host) == address:
                return f"{address} is a {kind} address"
            return f"{host} resolves to {address}, a {kind} address"
    return None


def refuse_private_target(host: str, port: int) -> None:
    """`AccountError` (422, field `url`) when `host` is or resolves to a refused address."""
    try:
        addresses = resolve(host, port)
    except OSError:
        return  # not resolvable now; the connection checks again at delivery
    reason = first_refusal(host, addresses)
    if reason is not None:
        raise AccountError("url", f"must point to a public address ({reason})")


class TargetRefused(httpcore.ConnectError):
    """A delivery's host is or resolves to a refused address (httpx raises it as ConnectError)."""


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses a webhook may reach: the host is resolved here, every address
    checked (unless private targets are allowed), and the socket opened to a checked address
    (TLS still names the host)."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from exc
        reason = None if self.allow_private else first_refusal(host, addresses)
        if reason is not None:
            raise TargetRefused(f"refused: {reason}")
        return super().connect_tcp(str(addresses[0]), port, timeout, local_address, socket_options)


def client(*, allow_private: bool, timeout_s: float) -> httpx.Client:
    """The client deliveries are posted with: no redirects followed, no proxy taken from the
    environment (it would connect for us, unchecked), a short time-out, and, unless private
    targets are allowed, connections only to public addresses."""
    transport = httpx.HTTPTransport()
    # httpx's transport takes no network backend: its pool is rebuilt with ours (the other
    # settings are httpx's defaults). tests/web/api/test_webhook_targets.py proves it is used.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=10,
        max_keepalive_connections=5,
        network_backend=GuardedBackend(allow_private=allow_private),
    )
    return httpx.Client(
        transport=transport, timeout=timeout_s, follow_redirects=False, trust_env=False
    )
