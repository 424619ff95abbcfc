"""Client addresses and networks, as the throttle and allowed networks see them
(DESIGN sections 3 and 4).

An IPv4-mapped IPv6 address (``::ffff:1.2.3.4``, what a dual-stack socket
reports for an IPv4 client) is that IPv4 address, and a network inside
``::ffff:0:0/96`` is the IPv4 network it maps, so that both forms of one
address meet. For the throttle, an IPv6 client is its /64: one subscriber
usually holds a whole /64, and counting each of its 2^64 addresses apart
would give it as many budgets.
"""
from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPV4_MAPPED = IPv6Network("::ffff:0:0/96")
#: The prefix an IPv6 client is counted by.
IPV6_COUNTED_PREFIX = 64
#: What the throttle counts a missing or unparsable address under: not an
#: address, so it meets no real one; shared, so that garbage buys no budgets.
UNKNOWN_ADDRESS = "unknown"


def client_ip(address: str | None) -> IPv4Address | IPv6Address | None:
    """``address`` parsed, an IPv4-mapped one as its IPv4 address; None when unparsable."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def counted_address(address: str | None) -> str:
    """The name the per-address throttle counts ``address`` under: an IPv4
    address itself, an IPv6 address its /64, anything else one shared name."""
    ip = client_ip(address)
    if ip is None:
        return UNKNOWN_ADDRESS
    if isinstance(ip, IPv6Address):
        # From the integer: a zone (``%eth0``) must not make another budget.
        return str(IPv6Network((int(ip), IPV6_COUNTED_PREFIX), strict=False))
    return str(ip)


def parse_network(value: str) -> IPv4Network | IPv6Network:
    """A CIDR range (host bits allowed), one inside ``::ffff:0:0/96`` as the
    IPv4 network it maps. Raises ValueError when ``value`` is none."""
    network = ipaddress.ip_network(value.strip(), strict=False)
    if isinstance(network, IPv6Network) and network.subnet_of(IPV4_MAPPED):
        return IPv4Network(
            (int(network.network_address) & 0xFFFFFFFF, network.prefixlen - IPV4_MAPPED.prefixlen)
        )
    return network


def address_allowed(address: str | None, networks: str) -> bool:
    """Whether ``address`` lies in one of the space-separated CIDR ``networks``."""
    ip = client_ip(address)
    if ip is None:
        return False
    # Parsed here too, not only at creation: tokens stored before networks were
    # normalised may hold the IPv4-mapped form.
    return any(ip in parse_network(cidr) for cidr in networks.split())
