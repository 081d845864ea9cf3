import json
import time

import pytest

from imgopt.adapters.net.guard import AddressGuard
from imgopt.adapters.net.sender import HttpxWebhookSender
from imgopt.domain.webhooks import AttemptResult
from tests.support import NON_PUBLIC_HOSTS, LocalServer, RawServer, Reply, free_port, loopback_is_public, url_to
from tests.unit.fakes import FixedClock

BODY = json.dumps({"type": "request.completed", "data": {"requestId": "r-1"}}).encode()
HEADERS = {"webhook-id": "msg_1", "webhook-timestamp": "1767225600", "webhook-signature": "v1,c2lnbmF0dXJl"}


@pytest.fixture
def receiver():
    with LocalServer() as server:
        yield server


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def make_sender(clock):
    """Senders whose guard treats 127.0.0.1 as public and refuses every other private address."""
    made = []

    def make(timeout: float = 5.0, guard: AddressGuard | None = None) -> HttpxWebhookSender:
        sender = HttpxWebhookSender(guard or AddressGuard(policy=loopback_is_public), clock, timeout=timeout)
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close()


def send(sender: HttpxWebhookSender, url: str) -> AttemptResult:
    return sender.send(url, HEADERS, BODY, "application/json")


def test_the_headers_and_body_arrive_exactly_as_given(receiver, make_sender):
    url = receiver.route("/hook", Reply(b"thanks", status=200))

    send(make_sender(), url)

    (request,) = receiver.requests
    assert request.method == "POST"
    assert request.body == BODY
    assert request.headers["Content-Type"] == "application/json"
    assert {name: request.headers[name] for name in HEADERS} == HEADERS


def test_a_2xx_answer_is_a_success_stamped_by_the_clock(receiver, make_sender, clock):
    url = receiver.route("/hook", Reply(status=204))

    result = send(make_sender(), url)

    assert result.succeeded
    assert result.status_code == 204
    assert result.error is None
    assert result.at == clock.now()
    assert result.duration_ms >= 0


@pytest.mark.parametrize("status", [400, 410, 500, 503])
def test_an_error_status_is_reported_as_it_came(receiver, make_sender, status):
    url = receiver.route("/hook", Reply(b"nope", status=status))

    result = send(make_sender(), url)

    assert result.status_code == status
    assert result.error is None
    assert not result.succeeded
    assert result.gone is (status == 410)


def test_a_redirect_is_an_answer_not_an_instruction(receiver, make_sender):
    with LocalServer() as elsewhere:
        target = elsewhere.route("/hook", Reply(status=200))
        url = receiver.route("/hook", Reply(status=307, headers={"Location": target}))

        result = send(make_sender(), url)

    assert result.status_code == 307
    assert not result.succeeded
    assert elsewhere.requests == []


def test_a_receiver_that_does_not_answer_in_time_is_an_error_after_the_timeout(receiver, make_sender):
    url = receiver.route("/hook", Reply(status=200, delay=3.0))

    result = send(make_sender(timeout=0.5), url)

    assert result.status_code is None
    assert result.error == f"timed out after 0.5s reading from 127.0.0.1:{receiver.port}"
    assert 400 <= result.duration_ms < 2000


def test_a_receiver_that_answers_then_drips_its_body_still_answered(receiver, make_sender):
    url = receiver.route("/hook", Reply(b"x" * 100_000, status=200, chunk_delay=1.0))
    started = time.monotonic()

    result = send(make_sender(timeout=0.5), url)

    assert result.status_code == 200
    assert time.monotonic() - started < 2


def test_a_receiver_dripping_its_headers_cannot_stretch_the_timeout(make_sender):
    with RawServer(b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 500 + b"\r\n\r\n", drip=0.02) as server:
        result = send(make_sender(timeout=0.5), server.url("/hook"))

    assert result.status_code is None
    assert result.error.startswith("timed out after 0.5s")
    assert result.duration_ms < 2000


@pytest.mark.parametrize("reply", [b"", b"garbage\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"])
def test_a_broken_receiver_is_an_error_not_an_exception(make_sender, reply):
    with RawServer(reply) as server:
        result = send(make_sender(), server.url("/hook"))

    assert result.status_code is None
    assert result.error.startswith(f"127.0.0.1:{server.port} sent a malformed or incomplete HTTP response")


def test_a_receiver_that_is_not_listening_is_an_error(make_sender):
    result = send(make_sender(), f"http://127.0.0.1:{free_port()}/hook")

    assert result.status_code is None
    assert result.error.startswith("could not connect to 127.0.0.1:")


@pytest.mark.parametrize("url", ["", "ftp://127.0.0.1/hook", "http://", "http://[::1/hook", "http://\x00/hook"])
def test_a_url_that_cannot_be_posted_to_is_an_error(make_sender, url):
    result = send(make_sender(), url)

    assert result.status_code is None
    assert result.error
    assert result.error.isprintable()


@pytest.mark.parametrize(("host", "problem"), NON_PUBLIC_HOSTS.items())
def test_a_receiver_on_a_non_public_address_is_refused_without_a_request(receiver, make_sender, host, problem):
    receiver.route("/hook", Reply(status=200))
    sender = make_sender(guard=AddressGuard(allow_private_networks=False))

    result = send(sender, url_to(host, receiver.port, "/hook"))

    assert result.status_code is None
    assert problem in result.error or result.error.startswith("refused: not a valid URL")
    assert receiver.requests == []


def test_a_metadata_address_is_refused_even_when_private_networks_are_allowed(make_sender):
    sender = make_sender(guard=AddressGuard(allow_private_networks=True))

    result = send(sender, "http://169.254.169.254/latest/meta-data/")

    assert result.error == (
        "refused: the host '169.254.169.254' is not public: 169.254.169.254 is a cloud metadata address"
    )
