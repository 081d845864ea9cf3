"""The embedded SeaweedFS comes up even when a port chosen for it is taken before it binds it."""

import socket
from itertools import count

from imgopt.entrypoints.demo.seaweedfs import EmbeddedSeaweedFS
from imgopt.entrypoints.http.server import free_port


def test_a_port_taken_before_the_server_binds_it_is_replaced_and_the_server_stores_objects(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        calls = count(1)

        def master_port_taken_the_first_time() -> int:
            return busy if next(calls) == 1 else free_port()

        with EmbeddedSeaweedFS(tmp_path / "weed", choose_port=master_port_taken_the_first_time) as server:
            server.endpoint.round_trip("imgopt-port-retry")

            assert next(calls) > 2 * 8  # a second set of eight ports was chosen
