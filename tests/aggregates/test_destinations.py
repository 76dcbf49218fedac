"""Which destinations a user's webhook may reach, in every spelling of an address."""

from __future__ import annotations

import pytest

from aggregates.destinations import (
    DestinationPolicy,
    RefusedDestinationError,
    is_public,
    literal_address,
)

STRICT = DestinationPolicy()

INTERNAL_URLS = [
    "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://10.0.0.1/",
    "https://172.16.5.4/",
    "https://192.168.1.1/",
    "https://100.100.100.200/latest/meta-data/",  # Alibaba's metadata (shared space)
    "https://192.0.0.192/opc/v2/instance/",  # Oracle's metadata
    "https://168.63.129.16/machine",  # Azure's host agent
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://METADATA.google.internal./computeMetadata/v1/",
    "https://metadata.goog/",
    "https://instance-data.ec2.internal/",
    "https://[fd00:ec2::254]/latest/meta-data/",
    "https://[fe80::1]/",
    "https://[fe80::1%25eth0]/",
    "https://[ff02::1]/",
    "https://[::]/",
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://255.255.255.255/",
    "https://198.18.0.1/",
    "http://127.0.0.1:6379/",
    "https://127.0.0.1./",
    "https://127.1/",
    "https://2130706433/",  # decimal
    "https://0x7f000001/",  # hex
    "https://0x7f.1/",
    "https://0177.0.0.1/",  # octal
    "https://017700000001/",
    "http://localhost:27017/",
    "https://localhost./",
    "https://LOCALHOST/",
    "https://api.localhost/",
    "http://[::1]:8000/",
    "https://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[::127.0.0.1]/",  # IPv4-compatible
    "https://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "https://[64:ff9b:1::a00:1]/",  # local-use NAT64
    "https://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "https://[2002:a00:1::1]/",  # 6to4 of 10.0.0.1
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
    "https://[2001:db8::1]/",  # documentation
]


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} should be judged without a lookup")


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_destinations_are_refused_in_every_spelling(url: str) -> None:
    with pytest.raises(RefusedDestinationError, match="not a public address"):
        STRICT.check_url(url, resolve=no_dns)


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8/hook",
        "https://93.184.216.34:8443/hook",
        "https://[2606:4700::1111]/hook",
        "https://[64:ff9b::808:808]/hook",  # NAT64 of 8.8.8.8
        "https://[2002:808:808::1]/hook",  # 6to4 of 8.8.8.8
        "https://134744072/hook",  # 8.8.8.8 in decimal: the spelling is not the problem
    ],
)
def test_public_addresses_are_accepted(url: str) -> None:
    STRICT.check_url(url, resolve=no_dns)


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    answers = {"hooks.example": ["93.184.216.34", "10.0.0.7"], "ok.example": ["93.184.216.34"]}

    def resolve(host: str, port: int) -> list[str]:
        assert port == 443
        return answers[host]

    with pytest.raises(RefusedDestinationError):
        STRICT.check_url("https://hooks.example./h", resolve=resolve)
    STRICT.check_url("https://ok.example/h", resolve=resolve)


def test_a_name_that_does_not_resolve_now_is_left_to_the_send_time_check() -> None:
    def nxdomain(host: str, port: int) -> list[str]:
        raise OSError(-2, "Name or service not known")

    STRICT.check_url("https://not-yet.example/h", resolve=nxdomain)


def test_plain_http_goes_only_where_the_operator_allows() -> None:
    with pytest.raises(RefusedDestinationError, match="plain http"):
        STRICT.check_url("http://8.8.8.8/h", resolve=no_dns)
    policy = DestinationPolicy.allowing(["hooks.corp", "10.20.0.0/16"])
    policy.check_url("http://hooks.corp:8080/h", resolve=lambda h, p: ["10.99.0.1"])
    policy.check_url("http://10.20.3.4/h", resolve=no_dns)
    policy.check_url("http://inside.corp/h", resolve=lambda h, p: ["10.20.0.9"])
    with pytest.raises(RefusedDestinationError):
        policy.check_url("https://10.21.0.1/h", resolve=no_dns)
    with pytest.raises(RefusedDestinationError, match="plain http"):
        policy.check_url("http://8.8.8.8/h", resolve=no_dns)


@pytest.mark.parametrize(
    "url", ["https://example.com:99999/h", "https://example.com:abc/h", "http://8.8.8.8:0/"]
)
def test_a_port_no_connection_can_use_is_refused_not_an_unknown_error(url: str) -> None:
    """Issue 13: urlsplit's ValueError escaped check_url (a 500 for a feed or a webhook)."""
    with pytest.raises(RefusedDestinationError, match="port"):
        STRICT.check_url(url, resolve=no_dns)


def test_the_allow_list_opens_loopback_but_never_metadata() -> None:
    policy = DestinationPolicy.allowing(["127.0.0.1", "0.0.0.0/0", "::/0", "metadata"])
    policy.check_url("http://127.0.0.1:9000/h", resolve=no_dns)
    policy.check_url("http://[::ffff:127.0.0.1]:9000/h", resolve=no_dns)
    for url in (
        "http://169.254.169.254/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://metadata/",
    ):
        with pytest.raises(RefusedDestinationError):
            policy.check_url(url, resolve=lambda h, p: ["169.254.169.254"])


@pytest.mark.parametrize("entry", ["not a host", "10.0.0.0/33", "http://x.test", ""])
def test_allow_list_entries_must_be_hosts_or_networks(entry: str) -> None:
    with pytest.raises(ValueError, match="neither a host name nor a network"):
        DestinationPolicy.allowing([entry])


def test_spellings_mean_the_address_libc_connects_to() -> None:
    assert str(literal_address("0x7f.1")) == "127.0.0.1"
    assert str(literal_address("127.0.0.1.")) == "127.0.0.1"
    assert str(literal_address("[::1]")) == "::1"
    assert literal_address("127.0.0.1 evil.example") is None
    assert literal_address("face.b00c") is None
    zero = literal_address("0")
    assert str(zero) == "0.0.0.0"  # noqa: S104 - an address judged, not bound
    assert zero is not None
    assert not is_public(zero)


def test_an_entry_with_a_port_opens_that_port_only() -> None:
    """Listing a whole host (127.0.0.1) opens every port, the embedded stores' too; an
    on-premise receiver can be listed with its port alone."""
    policy = DestinationPolicy.allowing(["127.0.0.1:9000", "hooks.corp:8443", "[::1]:9000"])
    policy.check_url("http://127.0.0.1:9000/h", resolve=no_dns)
    policy.check_url("http://[::ffff:127.0.0.1]:9000/h", resolve=no_dns)
    policy.check_url("http://[::1]:9000/h", resolve=no_dns)
    policy.check_url("https://hooks.corp:8443/h", resolve=lambda h, p: ["10.99.0.1"])
    for url in (
        "http://127.0.0.1:9001/h",
        "http://127.0.0.1/h",
        "http://[::1]:6379/h",
        "https://hooks.corp/h",
        "https://other.corp:8443/h",
    ):
        with pytest.raises(RefusedDestinationError):
            policy.check_url(url, resolve=lambda h, p: ["10.99.0.1"])
    policy.check_address("hooks.corp", "10.99.0.1", 8443)
    with pytest.raises(RefusedDestinationError):
        policy.check_address("hooks.corp", "10.99.0.1", 6379)
    with pytest.raises(RefusedDestinationError):
        DestinationPolicy.allowing(["169.254.169.254:80"]).check_url(
            "http://169.254.169.254:80/", resolve=no_dns
        )


@pytest.mark.parametrize("entry", ["127.0.0.1:0", "hooks.corp:70000", "not a host:80"])
def test_an_entry_with_a_port_must_be_a_host_and_a_port(entry: str) -> None:
    with pytest.raises(ValueError, match=r"port|neither"):
        DestinationPolicy.allowing([entry])
