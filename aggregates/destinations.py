"""Where the server may send a user's request: public addresses only, unless an operator
allows more.

A webhook's URL is the user's to choose, so without a check the server becomes the
user's way into the networks it sits in (server-side request forgery): the embedded
Redis and MongoDB on loopback, a cloud's metadata service with its credentials, the
private network. So a destination is refused when it is, or resolves to:

- loopback, unspecified (``0.0.0.0``, ``::``), private (10/8, 172.16/12, 192.168/16),
  shared (100.64/10), link-local (169.254/16, fe80::/10), unique-local (fc00::/7),
  multicast, broadcast, reserved, documentation and benchmarking ranges, and any IPv6
  address outside global unicast (2000::/3);
- a cloud metadata address (`METADATA_ADDRESSES`), which not even the operator's allow
  list opens;
- a name that means this host or a metadata service whatever DNS says (``localhost``,
  ``*.localhost``, ``metadata.google.internal``...).

Every spelling is seen as the address it means. The host is resolved by the system's
resolver, the one a connection uses, so decimal (``2130706433``), hex (``0x7f.1``),
octal (``0177.0.0.1``) and short (``127.1``) IPv4 forms come back as 127.0.0.1; the
IPv4 address carried inside an IPv4-mapped (``::ffff:127.0.0.1``), IPv4-compatible,
NAT64 (``64:ff9b::7f00:1``) or 6to4 (``2002:7f00:1::``) IPv6 address is checked as
well; trailing dots are dropped before names are compared (``localhost.``). A name
resolving to several addresses is refused if any of them is refused.

The check runs twice: when a channel is added (`check_url`, so the user hears at once)
and on every connection when sending, against the address actually connected to, since
DNS may answer differently later (`outbound.guarded_http`).

The operator's allow list (``IMPRESSOX_ALLOWED_DESTINATIONS``) names host names
and networks that may be reached although they are not public: on-premise receivers,
and the tests' local servers. Only there is plain ``http`` accepted. An entry without a
port opens every port (``127.0.0.1`` opens the embedded Redis and MongoDB to every
user's webhooks); ``host:port`` or ``[v6]:port`` opens that one port.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aggregates.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

REFUSED_V4 = tuple(
    ipaddress.IPv4Network(network)
    for network in (
        "0.0.0.0/8",  # "this network", 0.0.0.0 included
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (carrier NAT; Alibaba's metadata)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local (most clouds' metadata)
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments (Oracle's metadata)
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relays
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
    )
)
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
REFUSED_V6 = tuple(
    ipaddress.IPv6Network(network)
    for network in (
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHID...)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
    )
)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
"""The well-known NAT64 prefix: the last 32 bits are the IPv4 address reached."""
COMPATIBLE_V4 = ipaddress.IPv6Network("::/96")
"""Deprecated IPv4-compatible addresses (``::a.b.c.d``), ``::`` and ``::1`` among them."""

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack...
        "169.254.170.2",  # AWS ECS task credentials
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "168.63.129.16",  # Azure's host agent (a public-looking address)
        "fd00:ec2::254",  # AWS over IPv6
    )
)
"""Cloud metadata services: refused even when the allow list covers them."""

REFUSED_NAMES = frozenset(
    {
        "localhost",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
"""Names refused whatever they resolve to (as do all names under ``.localhost``)."""

REFUSAL = "the host is not a public address"
"""One message for every refusal: which kind of internal address a name resolves to is
itself something a user should not learn about the server's network."""

BAD_PORT = "the URL's port is not a number from 1 to 65535"

_HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_-]{1,63})*$")

Resolve = Callable[[str, int], list[str]]
"""A synchronous resolver: host and port to the addresses a connection would try."""


class RefusedDestinationError(DomainError):
    """The destination is not one the server may reach for a user."""

    def __init__(self, message: str = REFUSAL) -> None:
        super().__init__(message)


def normalised_host(host: str) -> str:
    """A host as names are compared: lowercase, without brackets or trailing dots."""
    return host.strip().strip("[]").rstrip(".").lower()


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP means, in any spelling libc accepts (decimal,
    hex, octal and short IPv4 forms included); None for a name."""
    host = normalised_host(host)
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not re.fullmatch(r"[0-9a-fx.]+", host):
        return None  # inet_aton would accept "1.2.3.4 anything": only digits may pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or address in COMPATIBLE_V4:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether a user's request may go to this address without the operator's leave."""
    inner = embedded_ipv4(address)
    if isinstance(address, ipaddress.IPv6Address) and address in COMPATIBLE_V4:
        return False  # no real host is reached through these
    if inner is not None:
        return is_public(inner)
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_global and not any(address in network for network in REFUSED_V4)
    return address in GLOBAL_UNICAST_V6 and not any(address in net for net in REFUSED_V6)


def is_metadata(address: IPAddress) -> bool:
    inner = embedded_ipv4(address)
    return address in METADATA_ADDRESSES or (inner is not None and inner in METADATA_ADDRESSES)


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for `host`, in its order, once each."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class DestinationPolicy:
    """Which destinations a user's request may reach. The default: public ones only."""

    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_endpoints: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    """(host name or address, port): one port of a host (``127.0.0.1:9000``)."""

    @classmethod
    def allowing(cls, entries: Iterable[str]) -> DestinationPolicy:
        """A policy that also allows `entries`: host names, addresses or CIDR networks
        (every port), or a host name or address with one port (``hooks.corp:8443``,
        ``[::1]:9000``).

        Raises ValueError naming an entry that is neither.
        """
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        endpoints: set[tuple[str, int]] = set()
        for entry in entries:
            endpoint = _endpoint(entry)
            if endpoint is not None:
                endpoints.add(endpoint)
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
                continue
            except ValueError:
                pass
            host = normalised_host(entry)
            if not _HOST_NAME.match(host) or literal_address(host) is not None:
                raise ValueError(f"{entry!r} is neither a host name nor a network (10.0.0.0/8)")
            hosts.add(host)
        return cls(frozenset(hosts), tuple(networks), frozenset(endpoints))

    @property
    def allows_private(self) -> bool:
        return bool(self.allowed_hosts or self.allowed_networks or self.allowed_endpoints)

    def host_is_allowed(self, host: str, port: int | None = None) -> bool:
        """Whether the operator listed this host name (or it, with this port)."""
        name = normalised_host(host)
        return name in self.allowed_hosts or (name, port) in self.allowed_endpoints

    def check_host(self, host: str) -> None:
        """Refuse a name that means this host or a metadata service, before any lookup
        (a name listed with a port is judged with its port, by `check_address`)."""
        name = normalised_host(host)
        if name in self.allowed_hosts or any(name == h for h, _ in self.allowed_endpoints):
            return
        if not name or name in REFUSED_NAMES or name.endswith(".localhost"):
            raise RefusedDestinationError

    def check_address(self, host: str, address: str | IPAddress, port: int | None = None) -> None:
        """Refuse connecting to `address` (which `host` resolved to) for a user, on
        `port` (None: a port no entry names)."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        if is_metadata(ip):
            raise RefusedDestinationError
        if self.host_is_allowed(host, port) or self._allows(ip, port):
            return
        if not is_public(ip):
            raise RefusedDestinationError

    def is_allowed_destination(
        self, host: str, addresses: Iterable[str | IPAddress], port: int | None = None
    ) -> bool:
        """Whether the operator's list covers this host (by name, or all its addresses)."""
        if self.host_is_allowed(host, port):
            return True
        ips = [ipaddress.ip_address(a) if isinstance(a, str) else a for a in addresses]
        return bool(ips) and all(self._allows(ip, port) for ip in ips)

    def check_url(self, url: str, resolve: Resolve = system_resolve) -> None:
        """Refuse a URL whose host is or resolves to a refused address, or plain http to
        a destination the operator did not list.

        A name that does not resolve now is let through: there is nothing to judge yet,
        and every connection is checked again when sending.
        """
        try:
            parts = urlsplit(url)
            port = parts.port  # ValueError for ":99999" or ":abc"
        except ValueError:
            raise RefusedDestinationError(BAD_PORT) from None
        if port == 0:
            raise RefusedDestinationError(BAD_PORT)
        port = port or (80 if parts.scheme == "http" else 443)
        host = parts.hostname or ""
        self.check_host(host)
        literal = literal_address(host)
        if literal is not None:
            addresses: list[str | IPAddress] = [literal]
        else:
            try:
                addresses = list(resolve(normalised_host(host), port))
            except (OSError, UnicodeError):
                addresses = []
        for address in addresses:
            self.check_address(host, address, port)
        if parts.scheme == "http" and not self.is_allowed_destination(host, addresses, port):
            raise RefusedDestinationError(
                "plain http is only for destinations the operator allows; use https"
            )

    def _allows(self, ip: IPAddress, port: int | None) -> bool:
        """Whether a listed network, or a listed address with this port, covers `ip`."""
        if self._network_allows(ip):
            return True
        inner = embedded_ipv4(ip)
        return any((str(a), port) in self.allowed_endpoints for a in (ip, inner) if a is not None)

    def _network_allows(self, ip: IPAddress) -> bool:
        inner = embedded_ipv4(ip)
        return any(ip in network or (inner is not None and inner in network)
                   for network in self.allowed_networks)  # fmt: skip


def _endpoint(entry: str) -> tuple[str, int] | None:
    """``host:port`` or ``[v6]:port`` as (host name or address, port); None for an entry
    without a port. Raises ValueError for a port out of range or a bad host."""
    match = re.fullmatch(r"\s*(\[[^\]]+\]|[^:\s]+):(\d+)\s*", entry)
    if match is None:
        return None
    host, port = normalised_host(match.group(1)), int(match.group(2))
    if not 0 < port < 65536:
        raise ValueError(f"{entry!r}: a port is a number from 1 to 65535")
    try:
        return str(ipaddress.ip_address(host)), port
    except ValueError:
        pass
    if not _HOST_NAME.match(host) or literal_address(host) is not None:
        raise ValueError(f"{entry!r} is neither a host name nor an address with a port")
    return host, port
