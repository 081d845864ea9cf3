"""free_port: a port nothing is bound to, drawn where outgoing connections are not given ports (Linux)."""

import socket
from pathlib import Path

import pytest

from imgopt.entrypoints.http import server
from imgopt.entrypoints.http.server import free_port

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


@pytest.mark.skipif(not EPHEMERAL_RANGE.is_file(), reason="the ephemeral port range is read from Linux's /proc")
def test_free_ports_are_bindable_and_below_the_range_outgoing_connections_are_given():
    lowest_ephemeral = int(EPHEMERAL_RANGE.read_text().split()[0])
    ports = [free_port() for _ in range(50)]

    assert all(10_000 <= port < lowest_ephemeral for port in ports)
    assert len(set(ports)) > 40  # drawn at random, not one port again and again
    for port in ports[:10]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


@pytest.mark.skipif(not EPHEMERAL_RANGE.is_file(), reason="the ephemeral port range is read from Linux's /proc")
def test_a_port_drawn_that_is_in_use_is_passed_over(monkeypatch):
    with socket.socket() as held:
        held.bind(("127.0.0.1", free_port()))
        held.listen()
        taken = held.getsockname()[1]
        spare = next(port for port in iter(free_port, None) if port != taken)
        draws = iter([taken, taken, spare])

        class Drawn:
            def randrange(self, low: int, high: int) -> int:
                return next(draws)

        monkeypatch.setattr(server, "_CHOICES", Drawn())

        assert free_port() == spare  # the taken port, drawn twice, passed over
