import gzip
import socket
import threading
import time

import pytest

from imgopt.adapters.net.fetcher import HttpxImageFetcher
from imgopt.adapters.net.guard import AddressGuard
from imgopt.application.ports import FetchFailed, NotModified
from imgopt.bootstrap.settings import Settings
from imgopt.domain.sources import Validators
from tests.support import (
    NON_PUBLIC_HOSTS,
    LocalServer,
    RawServer,
    Reply,
    ScriptedResolver,
    corpus_bytes,
    free_port,
    loopback_is_public,
    url_to,
    wait_for,
)


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    return corpus_bytes("small-320x240.jpg")


@pytest.fixture
def origin():
    with LocalServer() as server:
        yield server


@pytest.fixture
def internal():
    """A host on 127.0.0.2: still refused while 127.0.0.1 stands in for the public internet."""
    with LocalServer(host="127.0.0.2") as server:
        yield server


DEFAULTS = Settings()


def new_fetcher(guard: AddressGuard, **options) -> HttpxImageFetcher:
    """A fetcher with the service's default limits, but for `options`."""
    limits = {
        "max_bytes": DEFAULTS.max_image_bytes,
        "connect_timeout": DEFAULTS.fetch_connect_timeout,
        "read_timeout": DEFAULTS.fetch_read_timeout,
        "total_timeout": DEFAULTS.fetch_total_timeout,
    }
    return HttpxImageFetcher(guard, **{**limits, **options})


@pytest.fixture
def make_fetcher():
    """Fetchers whose guard treats 127.0.0.1 as public and refuses every other private address."""
    made = []

    def make(resolver=None, **options) -> HttpxImageFetcher:
        guard = AddressGuard(resolver=resolver or socket.getaddrinfo, policy=loopback_is_public)
        fetcher = new_fetcher(guard, **{"connect_timeout": 2.0, "read_timeout": 5.0, **options})
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()


def failure_of(fetcher: HttpxImageFetcher, url: str):
    with pytest.raises(FetchFailed) as failed:
        fetcher.fetch(url)
    assert failed.value.failure.reason.isprintable()
    return failed.value.failure


def raw_response(body: bytes, *headers: str) -> bytes:
    return "".join(f"{line}\r\n" for line in ("HTTP/1.1 200 OK", *headers, "")).encode() + body


def test_fetches_an_image_and_names_its_type_from_its_bytes_not_from_its_headers(origin, make_fetcher, jpeg):
    url = origin.route("/photo", Reply(jpeg, headers={"Content-Type": "text/plain"}))

    image = make_fetcher().fetch(url)

    assert image.data == jpeg
    assert image.media_type == "image/jpeg"


def test_follows_three_redirects_to_where_the_image_is(origin, make_fetcher, jpeg):
    origin.route("/1", Reply(status=301, headers={"Location": origin.url("/2")}))
    origin.route("/2", Reply(status=302, headers={"Location": "/3"}))
    origin.route("/3", Reply(status=307, headers={"Location": "photo.jpg"}))
    origin.route("/photo.jpg", Reply(jpeg))

    image = make_fetcher().fetch(origin.url("/1"))

    assert image.data == jpeg
    assert [origin.hits(path) for path in ("/1", "/2", "/3", "/photo.jpg")] == [1, 1, 1, 1]


def test_a_fourth_redirect_is_not_followed(origin, make_fetcher, jpeg):
    for step in range(1, 5):
        origin.route(f"/{step}", Reply(status=302, headers={"Location": f"/{step + 1}"}))
    origin.route("/5", Reply(jpeg))

    failure = failure_of(make_fetcher(), origin.url("/1"))

    assert failure.reason == f"more than 3 redirects, the last to 127.0.0.1:{origin.port}"
    assert not failure.transient
    assert origin.hits("/5") == 0


@pytest.mark.parametrize("spelling", ["127.0.0.2", "2130706434", "0x7f.0.0.2", "[::ffff:127.0.0.2]"])
def test_a_redirect_to_a_refused_host_is_refused_at_that_hop(origin, internal, make_fetcher, spelling):
    internal.route("/secret", Reply(b"\xff\xd8\xff internal"))
    url = origin.route(
        "/photo.jpg", Reply(status=302, headers={"Location": f"http://{spelling}:{internal.port}/secret"})
    )

    failure = failure_of(make_fetcher(), url)

    assert "127.0.0.2 is a loopback address" in failure.reason
    assert failure.reason.startswith("unsafe address: ")
    assert not failure.transient
    assert internal.requests == []


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "ftp://127.0.0.1/photo.jpg", "gopher://127.0.0.1:70/", "data:image/jpeg;base64,"]
)
def test_a_redirect_to_anything_but_http_is_refused(origin, make_fetcher, location):
    url = origin.route("/photo.jpg", Reply(status=302, headers={"Location": location}))

    failure = failure_of(make_fetcher(), url)

    assert failure.reason.startswith(f"127.0.0.1:{origin.port} redirected to a refused URL: only http and https")
    assert not failure.transient


def test_a_redirect_without_a_location_fails_permanently(origin, make_fetcher):
    url = origin.route("/photo.jpg", Reply(status=302))

    failure = failure_of(make_fetcher(), url)

    assert failure.reason == f"HTTP 302 from 127.0.0.1:{origin.port} without a Location header"
    assert not failure.transient


def test_a_redirect_to_a_malformed_url_fails_permanently(origin, make_fetcher):
    url = origin.route("/photo.jpg", Reply(status=302, headers={"Location": "http://[::1/photo.jpg"}))

    failure = failure_of(make_fetcher(), url)

    assert "redirected to a refused URL: not a valid URL" in failure.reason
    assert not failure.transient


def test_an_image_declared_larger_than_the_cap_fails_without_its_body_being_read(origin, make_fetcher, jpeg):
    # Sent slowly: reading the whole body would take about 40 s.
    url = origin.route("/photo.jpg", Reply(jpeg, chunk_delay=0.5))
    started = time.monotonic()

    failure = failure_of(make_fetcher(max_bytes=10_000), url)

    assert failure.reason == f"the image is {len(jpeg)} bytes, over the 10000 bytes limit"
    assert not failure.transient
    assert time.monotonic() - started < 5


def test_an_image_of_undeclared_size_is_cut_off_at_the_cap(make_fetcher, jpeg):
    with RawServer(raw_response(jpeg, "Connection: close")) as server:
        failure = failure_of(make_fetcher(max_bytes=10_000), server.url("/photo.jpg"))

    assert failure.reason == "the image is larger than the 10000 bytes limit"
    assert not failure.transient


def test_a_declared_size_under_the_cap_does_not_let_a_longer_body_through(make_fetcher, jpeg):
    # Transfer-Encoding wins over Content-Length, so this body is as long as its chunks make it.
    chunked = b"%x\r\n" % len(jpeg) + jpeg + b"\r\n0\r\n\r\n"
    lying = raw_response(chunked, "Content-Length: 100", "Transfer-Encoding: chunked")
    with RawServer(lying) as server:
        failure = failure_of(make_fetcher(max_bytes=10_000), server.url("/photo.jpg"))

    assert failure.reason == "the image is larger than the 10000 bytes limit"


def test_a_server_dripping_the_body_is_given_up_on_at_the_overall_deadline(origin, make_fetcher, jpeg):
    url = origin.route("/photo.jpg", Reply(jpeg, chunk_delay=0.2))
    started = time.monotonic()

    failure = failure_of(make_fetcher(read_timeout=5.0, total_timeout=1.0), url)

    assert failure.reason == f"gave up on 127.0.0.1:{origin.port}: the whole fetch may take 1s at most"
    assert failure.transient
    assert 0.9 < time.monotonic() - started < 3


def test_a_server_dripping_its_headers_is_given_up_on_at_the_overall_deadline(make_fetcher):
    headers = raw_response(b"", "Content-Type: image/jpeg", "X-Padding: " + "a" * 200)
    with RawServer(headers, drip=0.02) as server:
        started = time.monotonic()

        failure = failure_of(make_fetcher(read_timeout=5.0, total_timeout=1.0), server.url("/photo.jpg"))

    assert failure.reason.startswith("gave up on 127.0.0.1")
    assert failure.transient
    assert time.monotonic() - started < 3


def test_a_server_that_does_not_answer_in_time_is_a_transient_timeout(origin, make_fetcher, jpeg):
    url = origin.route("/photo.jpg", Reply(jpeg, delay=2.0))

    failure = failure_of(make_fetcher(read_timeout=0.3), url)

    assert failure.reason == f"timed out after 0.3s reading from 127.0.0.1:{origin.port}"
    assert failure.transient


@pytest.mark.parametrize(
    ("status", "transient"),
    [(400, False), (403, False), (404, False), (410, False), (429, True), (500, True), (503, True)],
)
def test_http_errors_are_transient_only_when_another_attempt_could_help(origin, make_fetcher, status, transient):
    url = origin.route("/photo.jpg", Reply(b"nope", status=status))

    failure = failure_of(make_fetcher(), url)

    assert failure.reason == f"HTTP {status} from 127.0.0.1:{origin.port}"
    assert failure.transient is transient


def test_an_html_page_served_as_a_jpeg_is_refused(origin, make_fetcher):
    page = b"<!DOCTYPE html><html><body>Sign in to see this photo</body></html>"
    url = origin.route("/photo.jpg", Reply(page, headers={"Content-Type": "image/jpeg"}))

    failure = failure_of(make_fetcher(), url)

    assert failure.reason == f"127.0.0.1:{origin.port} did not send an allowed image: an HTML page"
    assert not failure.transient


def test_a_format_outside_the_allow_list_is_refused_before_the_rest_is_downloaded(origin, make_fetcher):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg">' + b" " * 200_000 + b"</svg>"
    url = origin.route("/photo.svg", Reply(svg, chunk_delay=0.5))
    started = time.monotonic()

    failure = failure_of(make_fetcher(), url)

    assert failure.reason.endswith("did not send an allowed image: XML or SVG (not allowed)")
    assert time.monotonic() - started < 5


def test_an_empty_body_is_not_an_image(origin, make_fetcher):
    url = origin.route("/photo.jpg", Reply(b""))

    failure = failure_of(make_fetcher(), url)

    assert failure.reason == f"127.0.0.1:{origin.port} sent an empty response"


def test_a_compressed_body_is_refused_rather_than_expanded(origin, make_fetcher, jpeg):
    url = origin.route("/photo.jpg", Reply(gzip.compress(jpeg), headers={"Content-Encoding": "gzip"}))

    failure = failure_of(make_fetcher(), url)

    assert failure.reason == f"127.0.0.1:{origin.port} sent a gzip-encoded body though none was asked for"
    assert origin.requests[0].headers["Accept-Encoding"] == "identity"


def test_a_refused_connection_is_transient(make_fetcher):
    failure = failure_of(make_fetcher(), f"http://127.0.0.1:{free_port()}/photo.jpg")

    assert failure.reason.startswith("could not connect to 127.0.0.1:")
    assert failure.reason.endswith("Connection refused")
    assert failure.transient


@pytest.mark.parametrize(
    "reply",
    [
        b"",
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n\xff\xd8\xff\xe0 cut short",
        b"HTTP/1.1 302 Found\r\nLocation: /\x1b[31mred\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 302 Found\r\nLocation: http:evil\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 302 Found\r\nLocation: http://\xc3\xa9xample\xe2\x80\x8b.com/\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:99999/\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 302 Found\r\nLocation: \xff\xfe\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 999 Whatever\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n\xff\xd8\xff\xe0",
    ],
)
def test_no_server_behaviour_makes_the_fetcher_raise_anything_but_fetch_failed(make_fetcher, reply):
    with RawServer(reply) as server:
        failure = failure_of(make_fetcher(), server.url("/photo.jpg"))

    assert failure.reason
    assert len(failure.reason) <= 300


@pytest.mark.parametrize(
    "url",
    [
        "",
        "photo.jpg",
        "file:///etc/passwd",
        "ftp://127.0.0.1/photo.jpg",
        "javascript:alert(1)",
        "http://",
        "http:///photo.jpg",
        "http://exa mple.com/photo.jpg",
        "http://\x00/photo.jpg",
        "http://[::1/photo.jpg",
        "http://127.0.0.1:99999/photo.jpg",
        "http://" + "a" * 300 + ".example/photo.jpg",
        "http://\u00e9xample\u200b.com/",
        "https://user:pass@/photo.jpg",
    ],
)
def test_a_url_that_cannot_be_fetched_safely_fails_permanently_without_a_request(origin, make_fetcher, url):
    failure = failure_of(make_fetcher(), url)

    assert not failure.transient
    assert origin.requests == []


@pytest.mark.parametrize(("host", "problem"), NON_PUBLIC_HOSTS.items())
def test_an_image_on_a_non_public_address_is_refused_however_it_is_spelled(origin, host, problem):
    fetcher = new_fetcher(AddressGuard(allow_private_networks=False))
    url = url_to(host, origin.port, "/photo.jpg")

    failure = failure_of(fetcher, url)

    assert problem in failure.reason or failure.reason.startswith("not a valid URL")
    assert not failure.transient
    assert origin.requests == []


def test_a_metadata_address_is_refused_even_when_private_networks_are_allowed(origin):
    fetcher = new_fetcher(AddressGuard(allow_private_networks=True))
    url = origin.route(
        "/photo.jpg", Reply(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    )

    failure = failure_of(fetcher, url)

    assert failure.reason.endswith("169.254.169.254 is a cloud metadata address")


def test_dns_rebinding_cannot_move_the_connection_to_the_address_answered_second(make_fetcher, jpeg, internal):
    internal.route("/photo.jpg", Reply(b"\xff\xd8\xff internal secret"))
    # The origin listens on the internal server's port: only the address tells the two apart.
    with LocalServer(port=internal.port) as origin:
        origin.route("/photo.jpg", Reply(jpeg))
        resolver = ScriptedResolver(["127.0.0.1"], ["127.0.0.2"])

        image = make_fetcher(resolver=resolver).fetch(f"http://images.example:{origin.port}/photo.jpg")

    assert image.data == jpeg
    assert resolver.lookups == ["images.example"]
    assert internal.requests == []
    assert origin.requests[0].headers["Host"] == f"images.example:{origin.port}"


def test_a_name_that_resolves_to_a_refused_address_is_never_connected_to(make_fetcher, internal):
    resolver = ScriptedResolver(["127.0.0.2"], ["127.0.0.1"])

    failure = failure_of(make_fetcher(resolver=resolver), f"http://images.example:{internal.port}/photo.jpg")

    assert failure.reason == (
        "unsafe address: the host 'images.example' is not public: 127.0.0.2 is a loopback address"
    )
    assert internal.requests == []


def test_a_temporary_dns_failure_is_transient(make_fetcher):
    def resolver(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    failure = failure_of(make_fetcher(resolver=resolver), "http://images.example/photo.jpg")

    assert failure.reason == "the host 'images.example' does not resolve (Temporary failure in name resolution)"
    assert failure.transient


def test_a_cookie_set_during_one_fetch_is_never_sent_with_another(origin, make_fetcher, jpeg):
    origin.route("/first.jpg", Reply(jpeg, headers={"Set-Cookie": "session=secret; Path=/"}))
    origin.route("/second.jpg", Reply(jpeg))
    fetcher = make_fetcher()

    fetcher.fetch(origin.url("/first.jpg"))
    fetcher.fetch(origin.url("/second.jpg"))

    assert "Cookie" not in origin.requests[1].headers


def test_closing_the_fetcher_aborts_a_download_running_on_another_thread():
    with LocalServer() as origin:
        origin.route("/slow.jpg", Reply(corpus_bytes("small-320x240.jpg"), delay=30))
        fetcher = new_fetcher(AddressGuard(allow_private_networks=True), read_timeout=60)
        failures = []

        def fetch() -> None:
            try:
                fetcher.fetch(origin.url("/slow.jpg"))
            except FetchFailed as exc:
                failures.append(exc.failure)

        thread = threading.Thread(target=fetch)
        thread.start()
        wait_for(lambda: origin.hits("/slow.jpg") == 1, message="the download to start")
        fetcher.close()
        thread.join(timeout=5)

    assert not thread.is_alive()
    assert len(failures) == 1 and failures[0].transient


def test_a_closed_fetcher_connects_nowhere():
    with LocalServer() as origin:
        origin.route("/photo.jpg", Reply(corpus_bytes("small-320x240.jpg")))
        fetcher = new_fetcher(AddressGuard(allow_private_networks=True))
        fetcher.close()

        with pytest.raises(FetchFailed):
            fetcher.fetch(origin.url("/photo.jpg"))

    assert origin.requests == []


def test_a_conditional_fetch_sends_the_validators_and_takes_a_304_as_not_modified(origin, make_fetcher, jpeg):
    modified = "Mon, 07 Dec 2026 09:00:00 GMT"
    origin.route("/old", Reply(status=301, headers={"Location": "/photo.jpg"}))
    url = origin.route("/photo.jpg", Reply(jpeg, etag='"v1"', last_modified=modified))
    fetcher = make_fetcher()

    fetched = fetcher.fetch(origin.url("/old"))
    answer = fetcher.fetch(origin.url("/old"), fetched.validators)

    assert fetched.validators == Validators('"v1"', modified)
    assert answer == NotModified(Validators('"v1"', modified))
    asked = origin.requests[-1].headers
    assert (asked["if-none-match"], asked["if-modified-since"]) == ('"v1"', modified)
    assert fetcher.fetch(url, Validators('"v0"')).data == jpeg  # another ETag: the whole image


def test_304s_and_redirects_leave_their_connection_open_for_the_next_request(origin, make_fetcher, jpeg):
    origin.route("/old", Reply(status=301, headers={"Location": "/photo.jpg"}))
    origin.route("/photo.jpg", Reply(jpeg, etag='"v1"'))
    fetcher = make_fetcher()
    fetched = fetcher.fetch(origin.url("/old"))

    answers = [fetcher.fetch(origin.url("/old"), fetched.validators) for _ in range(5)]

    assert answers == [NotModified(Validators('"v1"'))] * 5
    assert len(origin.requests) == 12
    assert origin.connections == 1  # a re-upload of unchanged images pays no connection per image


def test_a_304_to_an_unconditional_fetch_is_a_failure_and_odd_validators_are_not_kept(origin, make_fetcher, jpeg):
    unasked = origin.route("/unasked.jpg", Reply(status=304))
    odd = origin.route("/odd.jpg", Reply(jpeg, headers={"ETag": '"' + "x" * 300 + '"'}))
    fetcher = make_fetcher()

    assert failure_of(fetcher, unasked).reason == f"HTTP 304 from 127.0.0.1:{origin.port}"
    assert fetcher.fetch(odd).validators == Validators()
