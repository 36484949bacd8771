"""The client's address, which login throttling counts by: the TCP peer, or — when the peer is
a proxy we were told to trust (``JUBAO_TRUSTED_PROXIES``) — the address the proxies say they
forwarded for.

Each proxy appends the address it received the request from to ``X-Forwarded-For``, and the
client may send that header with anything in it already; so the chain is read from the right,
past trusted proxies only, and the first address not a trusted proxy is the client. With no
trusted proxies (the default) the header is ignored: anyone could otherwise pick the address
their guesses count against.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network
UNKNOWN = "unknown"


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"10.0.0.7, 10.1.0.0/16, fd00::/8"`` as networks; a bad entry is a ValueError."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"JUBAO_TRUSTED_PROXIES: {item!r} is not an IP address or network"
            ) from None
    return tuple(networks)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: tuple[Network, ...]
) -> str:
    """The client's address (see the module's description); ``forwarded_for`` holds the
    values of every ``X-Forwarded-For`` header, in order."""
    if peer is None:
        return UNKNOWN
    address = _parse(peer)
    if address is None:
        return peer[:64]
    if not _trusted(address, trusted):
        return str(address)
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        forwarded = _parse(hop)
        if forwarded is None:
            break  # not written by a proxy of ours: trust ends at the last one that was
        address = forwarded
        if not _trusted(address, trusted):
            break
    return str(address)


def _trusted(address: IPv4Address | IPv6Address, trusted: tuple[Network, ...]) -> bool:
    return any(address in network for network in trusted)


def _parse(text: str) -> IPv4Address | IPv6Address | None:
    """An address as proxies write it: bare, ``1.2.3.4:port`` or ``[v6]:port``."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
