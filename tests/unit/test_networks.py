"""Client addresses and networks as the throttle and allowed networks see them."""
from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

import pytest

from dragonhoard.schemas.tokens import check_network
from dragonhoard.security.networks import address_allowed, counted_address, parse_network
from dragonhoard.security.sources import bearer


@pytest.mark.parametrize(("address", "counted"), [
    ("192.0.2.10", "192.0.2.10"),
    ("::ffff:192.0.2.10", "192.0.2.10"),
    ("::ffff:c000:20a", "192.0.2.10"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2:0:0:0:7", "2001:db8:1:2::/64"),
    ("fe80::1%eth0", "fe80::/64"),  # a zone makes no budget of its own
    ("::1", "::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
])
def test_an_address_is_counted_by_itself_or_its_64(address, counted):
    assert counted_address(address) == counted


@pytest.mark.parametrize("address", [None, "", "not-an-address", "999.1.1.1", "192.0.2.10 ",
                                     "unix:/run/dragonhoard.sock"])
def test_every_unparsable_address_shares_one_name(address):
    assert counted_address(address) == counted_address(None) == "unknown"


def test_a_64_is_the_longest_name():
    assert len(counted_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")) == len(
        "ffff:ffff:ffff:ffff::/64")


@pytest.mark.parametrize(("value", "network"), [
    ("::ffff:10.0.0.0/104", IPv4Network("10.0.0.0/8")),
    ("::ffff:a00:0/104", IPv4Network("10.0.0.0/8")),
    ("::ffff:192.0.2.99/120", IPv4Network("192.0.2.0/24")),  # host bits allowed
    ("::ffff:192.0.2.99", IPv4Network("192.0.2.99/32")),
    ("::ffff:0:0/96", IPv4Network("0.0.0.0/0")),
    (" 10.1.2.3/8 ", IPv4Network("10.0.0.0/8")),
    ("2001:db8::7/32", IPv6Network("2001:db8::/32")),
    ("::/0", IPv6Network("::/0")),  # wider than the mapped range: stays IPv6
    ("::ffff:0:0/95", IPv6Network("::fffe:0:0/95")),
])
def test_networks_inside_the_ipv4_mapped_range_are_ipv4(value, network):
    assert parse_network(value) == network


@pytest.mark.parametrize("value", ["", "10.0.0.0/33", "::ffff:10.0.0.0/129", "nonsense"])
def test_what_is_no_network_is_refused(value):
    with pytest.raises(ValueError):
        parse_network(value)
    with pytest.raises(ValueError, match="is not an address range"):
        check_network(value)


def test_networks_are_stored_normalised():
    assert check_network("::ffff:10.0.0.0/104") == "10.0.0.0/8"
    assert check_network("::ffff:192.0.2.1") == "192.0.2.1/32"
    assert check_network("2001:db8::1/32") == "2001:db8::/32"


@pytest.mark.parametrize("networks", ["10.0.0.0/8", "::ffff:10.0.0.0/104", "::ffff:a00:0/104"])
@pytest.mark.parametrize("address", ["10.1.2.3", "::ffff:10.1.2.3"])
def test_either_form_of_a_network_meets_either_form_of_an_address(networks, address):
    assert address_allowed(address, networks)
    assert not address_allowed("11.0.0.1", networks)
    assert not address_allowed("::ffff:11.0.0.1", networks)


def test_address_allowed():
    networks = "192.0.2.0/24 2001:db8::/32"
    assert address_allowed("192.0.2.200", networks)
    assert address_allowed("2001:db8:ffff::1", networks)
    assert not address_allowed("2001:db9::1", networks)
    assert not address_allowed("198.51.100.1", networks)
    assert not address_allowed(None, networks)
    assert not address_allowed("", networks)
    assert not address_allowed("not-an-address", networks)
    assert not address_allowed("10.1.2.3", "")


def test_bearer_uses_the_shared_helper():
    assert bearer.address_allowed is address_allowed
