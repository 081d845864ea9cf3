"""`imgopt serve` as a user starts it: a subprocess on a free port, its log kept, stopped by a signal."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from imgopt.entrypoints.http.server import free_port
from tests.support import wait_for


class ServeProcess:
    """The API and the worker in one process; entering waits until `/ready` answers 200."""

    def __init__(self, database_url: str, data_dir: Path, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "serve.log"
        self._environment = {
            **os.environ,
            "IMGOPT_DATABASE_URL": database_url,
            "IMGOPT_DATA_DIR": str(data_dir),
            "IMGOPT_ALLOW_PRIVATE_NETWORKS": "true",
            "IMGOPT_AUTH": "off",  # a test of keys asks for IMGOPT_AUTH=required, and makes one with `key`
            **settings,
        }
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "ServeProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "imgopt.entrypoints.cli", "serve", "--port", str(self.port)],
                env=self._environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._ready, timeout=90, interval=0.1, message=f"imgopt serve to be ready ({self.log_path})")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, as an orchestrator stops it; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def key(self, tenant: str) -> dict[str, str]:
        """The header of a new key of `tenant`, made with `imgopt keys create` as an operator would."""
        argv = [sys.executable, "-m", "imgopt.entrypoints.cli", "keys", "create", "--tenant", tenant, "tests", "--json"]
        done = subprocess.run(argv, env=self._environment, capture_output=True, text=True, timeout=60, check=True)
        return {"Authorization": f"Bearer {json.loads(done.stdout)['key']}"}

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"imgopt serve exited with {self.process.returncode}: {self.log[-3000:]}")
        try:
            return httpx.get(f"{self.url}/ready", timeout=5).status_code == 200
        except httpx.TransportError:
            return False
