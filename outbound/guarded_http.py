"""An HTTP client for users' URLs: every connection goes only to an address the
destination policy allows, checked at the moment of connecting.

Checking a URL when a channel is added is not enough: DNS may answer differently when
the message is sent (a name that resolved to a public address may now resolve to
127.0.0.1), and an HTTP client resolving the name again itself could reach an address
nobody checked. So the check sits in the network layer, under the HTTP client:
`GuardedBackend` resolves the host itself, refuses the connection if any address is
refused (`aggregates.destinations`), and connects to the checked address, never the
name. TLS still verifies the certificate against the URL's host name and sends it as
SNI, and the Host header is the URL's: only the socket is pinned.

Webhooks follow no redirect (`notify.http_delivery`); feeds do, and each hop is
checked the same way, since every connection is. Environment proxies are ignored: a
proxy would make the connection on our behalf to wherever the URL says.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

from aggregates.destinations import DestinationPolicy, literal_address, normalised_host

AsyncResolve = Callable[[str, int], Awaitable[list[str]]]
"""Host and port to the addresses to try, in order."""


async def system_resolve(host: str, port: int) -> list[str]:
    """The system resolver's addresses for `host` (what a connection would have used)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to addresses `policy` allows for `host`."""

    def __init__(
        self,
        policy: DestinationPolicy,
        resolve: AsyncResolve = system_resolve,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolve = resolve
        self._backend = backend or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first allowed address of `host` that answers.

        A refused destination raises `RefusedDestinationError` before any connection;
        a name that does not resolve is a connection error like any other.
        """
        addresses = await self._addresses(host, port)
        for address in addresses:
            self._policy.check_address(host, address, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._backend.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not a destination for users' requests")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)

    async def _addresses(self, host: str, port: int) -> list[str]:
        self._policy.check_host(host)
        literal = literal_address(host)
        if literal is not None:
            return [str(literal)]
        try:
            addresses = await self._resolve(normalised_host(host), port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise httpcore.ConnectError("the host does not resolve")
        return addresses


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, its connection pool opening sockets through `GuardedBackend`.

    httpx takes no network backend of its own, so the pool it builds is replaced by one
    with the same settings and ours (httpx's `_pool`, stable across its releases; the
    tests connecting through this transport would notice a change).
    """

    def __init__(
        self,
        backend: GuardedBackend,
        *,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        super().__init__(verify=verify, trust_env=False)
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


def guarded_client(
    policy: DestinationPolicy,
    *,
    timeout: float,
    resolve: AsyncResolve = system_resolve,
    verify: ssl.SSLContext | bool = True,
    follow_redirects: bool = False,
) -> httpx.AsyncClient:
    """A client for users' URLs: connects only where `policy` allows (every hop of a
    followed redirect too), ignores environment proxies."""
    transport = GuardedTransport(GuardedBackend(policy, resolve), verify=verify)
    return httpx.AsyncClient(
        transport=transport, timeout=timeout, follow_redirects=follow_redirects, trust_env=False
    )
