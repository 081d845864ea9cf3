import socket

import pytest

from imgopt.adapters.net.guard import AddressGuard, UnresolvedHost, address_problem
from imgopt.application.ports import UnsafeUrl
from tests.support import NON_PUBLIC_HOSTS


@pytest.mark.parametrize(("host", "problem"), NON_PUBLIC_HOSTS.items())
def test_every_spelling_of_a_non_public_address_is_refused_with_the_reason(host, problem):
    guard = AddressGuard(allow_private_networks=False)

    with pytest.raises(UnsafeUrl) as refused:
        guard.resolve(host, 80)

    assert problem in str(refused.value)
    assert repr(host) in str(refused.value)


def test_a_public_address_is_vouched_for_as_it_is():
    guard = AddressGuard(allow_private_networks=False)

    addresses = guard.resolve("93.184.215.14", 443)

    assert addresses == [(socket.AF_INET, "93.184.215.14")]


@pytest.mark.parametrize("host", ["169.254.169.254", "::ffff:169.254.169.254", "100.100.100.200", "169.254.170.2"])
def test_metadata_addresses_are_refused_even_when_private_networks_are_allowed(host):
    guard = AddressGuard(allow_private_networks=True)

    with pytest.raises(UnsafeUrl, match="cloud metadata address"):
        guard.resolve(host, 80)


def test_private_networks_may_be_allowed_for_local_development():
    guard = AddressGuard(allow_private_networks=True)

    assert guard.resolve("127.0.0.1", 80) == [(socket.AF_INET, "127.0.0.1")]
    assert guard.resolve("10.0.0.1", 80) == [(socket.AF_INET, "10.0.0.1")]


def test_one_refused_address_among_the_answers_refuses_the_host():
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 80)) for a in ("93.184.215.14", "10.0.0.7")]
    guard = AddressGuard(resolver=lambda *args, **kwargs: answers)

    with pytest.raises(UnsafeUrl, match="10.0.0.7 is a private address"):
        guard.resolve("images.example", 80)


def test_a_policy_decides_which_addresses_count_as_public_but_never_the_metadata_ones():
    def loopback_one_is_public(address: str) -> str | None:
        return None if address == "127.0.0.1" else address_problem(address)

    guard = AddressGuard(policy=loopback_one_is_public)

    assert guard.resolve("127.0.0.1", 80) == [(socket.AF_INET, "127.0.0.1")]
    with pytest.raises(UnsafeUrl, match="127.0.0.2 is a loopback address"):
        guard.resolve("127.0.0.2", 80)
    with pytest.raises(UnsafeUrl, match="cloud metadata"):
        AddressGuard(policy=lambda address: None).resolve("169.254.169.254", 80)


def test_a_name_that_does_not_resolve_says_whether_the_resolver_asked_to_try_again():
    def resolver_failing_with(code: int):
        def resolve(*args, **kwargs):
            raise socket.gaierror(code, "resolver trouble")

        return resolve

    with pytest.raises(UnresolvedHost) as temporary:
        AddressGuard(resolver=resolver_failing_with(socket.EAI_AGAIN)).resolve("images.example", 80)
    with pytest.raises(UnresolvedHost) as permanent:
        AddressGuard(resolver=resolver_failing_with(socket.EAI_NONAME)).resolve("images.example", 80)

    assert temporary.value.temporary
    assert not permanent.value.temporary
    assert str(permanent.value) == "the host 'images.example' does not resolve (resolver trouble)"
