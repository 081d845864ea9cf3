"""Servers as subprocesses on free loopback ports: started, awaited, measured (RSS), stopped."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import psutil

from bench.workspace import ROOT, work_dir
from imgopt.entrypoints.http.server import free_port


class ServerProcess:
    """`argv` run until the block ends; entering waits for `ready_path` to answer 200."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, ready_path: str = "/health") -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.port = port
        self.ready_path = ready_path
        self.log_path = work_dir("logs") / f"{name}.log"
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> "ServerProcess":
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self._process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"{self.name} did not answer on {self.ready_path} within 120 s: {self.log_tail()}")

    def __exit__(self, *exc_info: object) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def rss(self) -> int:
        """Resident memory of the server and any children it started, in bytes."""
        parent = psutil.Process(self.pid)
        total = 0
        for process in [parent, *parent.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):  # a child may exit between listing and reading
                total += process.memory_info().rss
        return total

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server and any children it started, so far."""
        parent = psutil.Process(self.pid)
        total = 0.0
        for process in [parent, *parent.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]


class PeakRss:
    """Samples a server's RSS on a thread while the block runs; `peak` is the largest sample."""

    def __init__(self, server: ServerProcess, interval: float = 0.02) -> None:
        self._server = server
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.peak = 0
        self.samples = 0

    def __enter__(self) -> "PeakRss":
        self.peak = self._server.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._server.rss())

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.peak = max(self.peak, self._server.rss())
                self.samples += 1
            except psutil.NoSuchProcess:
                return


def imgopt_api(database_url: str, name: str, **settings: str) -> ServerProcess:
    """`imgopt api` on a free port against `database_url`, migrating on start, data under bench/.work."""
    return _imgopt("api", database_url, name, **settings)


def imgopt_serve(
    database_url: str, name: str, environment: dict[str, str] | None = None, **settings: str
) -> ServerProcess:
    """`imgopt serve` (the API and the worker in one process), otherwise as `imgopt_api`; `environment` adds
    variables other than IMGOPT_* (an S3 endpoint and its credentials, say)."""
    return _imgopt("serve", database_url, name, environment, **settings)


def _imgopt(
    command: str, database_url: str, name: str, environment: dict[str, str] | None = None, **settings: str
) -> ServerProcess:
    port = free_port()
    env = imgopt_environment(database_url, name, environment, **settings)
    argv = [sys.executable, "-m", "imgopt.entrypoints.cli", command, "--host", "127.0.0.1", "--port", str(port)]
    return ServerProcess(name, argv, env, port)


def imgopt_environment(
    database_url: str, name: str, environment: dict[str, str] | None = None, **settings: str
) -> dict[str, str]:
    """The environment of an imgopt command; no key, no rate limit and no cap on waiting images unless a
    benchmark asks for them (ingest and details store millions of rows that nothing ever processes)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("IMGOPT_")}
    env.update(environment or {})
    env.update(
        IMGOPT_DATABASE_URL=database_url,
        IMGOPT_DATA_DIR=str(work_dir("data", name)),
        IMGOPT_AUTH="off",
        IMGOPT_RATE_LIMIT_PER_MINUTE="0",
        IMGOPT_MAX_WAITING_IMAGES="0",
    )
    env.update({f"IMGOPT_{key.upper()}": value for key, value in settings.items()})
    return env


def create_key(database_url: str, name: str, tenant: str = "bench") -> str:
    """A new API key on `database_url` (migrated first), made as an operator would: `imgopt keys create`."""
    argv = [sys.executable, "-m", "imgopt.entrypoints.cli", "keys", "create", "--tenant", tenant, name, "--json"]
    done = subprocess.run(argv, env=imgopt_environment(database_url, name), capture_output=True, text=True, check=True)
    return json.loads(done.stdout)["key"]
