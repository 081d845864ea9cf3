import ssl
import time

import httpx
import pytest
import trustme

from imgopt.adapters.net.guard import AddressGuard
from imgopt.adapters.net.transport import GuardedTransport
from imgopt.application.ports import UnsafeUrl
from tests.support import LocalServer, Reply, ScriptedResolver, free_port, loopback_is_public

TIMEOUT = httpx.Timeout(5.0)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_server(ca: trustme.CA, name: str) -> LocalServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(context)
    return LocalServer(tls=context)


def guarded_client(guard: AddressGuard) -> httpx.Client:
    return httpx.Client(transport=GuardedTransport(guard), timeout=TIMEOUT, trust_env=False)


def client_trusting(ca: trustme.CA, resolver: ScriptedResolver) -> httpx.Client:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    guard = AddressGuard(resolver=resolver, policy=loopback_is_public)
    return httpx.Client(transport=GuardedTransport(guard, ssl_context=context), timeout=TIMEOUT, trust_env=False)


def test_the_request_keeps_the_host_name_while_the_connection_goes_to_the_vouched_address():
    with LocalServer() as origin:
        origin.route("/photo.jpg", Reply(b"ok"))
        resolver = ScriptedResolver(["127.0.0.1"])
        client = guarded_client(AddressGuard(resolver=resolver, policy=loopback_is_public))

        response = client.get(f"http://images.example:{origin.port}/photo.jpg")

    assert response.status_code == 200
    assert origin.requests[0].headers["Host"] == f"images.example:{origin.port}"
    assert resolver.lookups == ["images.example"]


def test_vouched_addresses_are_tried_in_order_until_one_answers():
    with LocalServer() as origin:
        origin.route("/photo.jpg", Reply(b"ok"))
        # Nothing listens on 127.0.0.3 at this port, so the first connection is refused.
        resolver = ScriptedResolver(["127.0.0.3", "127.0.0.1"])
        guard = AddressGuard(resolver=resolver, policy=lambda address: None)
        client = guarded_client(guard)

        response = client.get(f"http://images.example:{origin.port}/photo.jpg")

    assert response.status_code == 200
    assert resolver.lookups == ["images.example"]


def test_a_refused_address_raises_unsafe_url_naming_the_host_and_why():
    client = guarded_client(AddressGuard())

    with pytest.raises(UnsafeUrl) as refused:
        client.get(f"http://0x7f.0.0.1:{free_port()}/")

    assert str(refused.value) == "the host '0x7f.0.0.1' is not public: 127.0.0.1 is a loopback address"


def test_tls_verifies_the_certificate_against_the_host_name_not_the_address(ca):
    with tls_server(ca, "images.example") as origin:
        origin.route("/photo.jpg", Reply(b"ok"))
        client = client_trusting(ca, ScriptedResolver(["127.0.0.1"]))

        response = client.get(f"https://images.example:{origin.port}/photo.jpg")

    assert response.status_code == 200
    assert origin.requests[0].headers["Host"] == f"images.example:{origin.port}"


def test_a_certificate_for_another_name_is_rejected(ca):
    with tls_server(ca, "other.example") as origin:
        origin.route("/photo.jpg", Reply(b"ok"))
        client = client_trusting(ca, ScriptedResolver(["127.0.0.1"]))

        with pytest.raises(httpx.ConnectError, match="Hostname mismatch"):
            client.get(f"https://images.example:{origin.port}/photo.jpg")

    assert origin.requests == []


def test_the_deadline_extension_cuts_a_slow_body_short():
    with LocalServer() as origin:
        origin.route("/slow", Reply(b"x" * 100_000, chunk_delay=0.2))
        client = guarded_client(AddressGuard(policy=loopback_is_public))
        started = time.monotonic()

        with (
            pytest.raises(httpx.ReadTimeout),
            client.stream("GET", origin.url("/slow"), extensions={"deadline": started + 0.5}) as response,
        ):
            response.read()

    assert time.monotonic() - started < 2.0
