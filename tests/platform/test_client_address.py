"""The client's address: the peer, or behind trusted proxies what they forwarded for."""

import pytest
from pydantic import ValidationError

from jubao.platform.client_address import client_address, parse_networks
from tests.conftest import make_settings

PROXIES = parse_networks("10.0.0.0/8, 192.0.2.7, fd00::/8")


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # no trusted proxy in front: the header is whatever the client wrote
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),
        # one proxy: the address it appended
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        # what the client wrote itself sits left of what our proxies appended
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1, 10.1.1.1"], "198.51.100.1"),
        ("10.0.0.2", ["6.6.6.6", "198.51.100.1, 192.0.2.7"], "198.51.100.1"),  # two headers
        # forms proxies write: ports, brackets, IPv4 inside IPv6
        ("10.0.0.2", ["198.51.100.1:5123"], "198.51.100.1"),
        ("fd00::1", ["[2001:db8::9]:443"], "2001:db8::9"),
        ("::ffff:10.0.0.2", ["::ffff:198.51.100.1"], "198.51.100.1"),
        # garbage, or nothing forwarded: the last proxy we trust answers for it
        ("10.0.0.2", ["not-an-address"], "10.0.0.2"),
        ("10.0.0.2", ["198.51.100.1, x, 10.0.0.3"], "10.0.0.3"),
        ("10.0.0.2", [], "10.0.0.2"),
        (None, ["198.51.100.1"], "unknown"),
    ],
)
def test_the_client_behind_proxies(peer: str | None, forwarded: list[str], client: str) -> None:
    assert client_address(peer, forwarded, PROXIES) == client


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address("10.0.0.2", ["198.51.100.1"], ()) == "10.0.0.2"


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert make_settings("sqlite://", trusted_proxies="").trusted_proxy_networks == ()
    with pytest.raises(ValidationError, match=r"'10\.0\.0\.300' is not an IP address"):
        make_settings("sqlite://", trusted_proxies="10.0.0.1, 10.0.0.300")
