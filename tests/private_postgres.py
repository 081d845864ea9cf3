"""A PostgreSQL server of a test's own, on a free loopback port, that the test may stop and start again."""

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from imgopt.entrypoints.http.server import free_port


def _binaries() -> Path:
    """The pgserver wheel's PostgreSQL (a dev dependency, so CI has it), else the machine's on PATH."""
    try:
        from pgserver._commands import POSTGRES_BIN_PATH

        if (POSTGRES_BIN_PATH / "pg_ctl").is_file():
            return POSTGRES_BIN_PATH
    except ImportError:
        pass
    found = shutil.which("pg_ctl")
    if found is None:
        raise RuntimeError("no PostgreSQL binaries: install the pgserver wheel or PostgreSQL")
    return Path(found).resolve().parent


def _system_user() -> str | None:
    """PostgreSQL refuses to run as root: then it runs as `postgres` (or pgserver's own user)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        from pgserver.utils import ensure_user_exists

        return ensure_user_exists("pgserver").pw_name


class PrivatePostgres:
    """initdb'd into a fresh directory under /tmp; `stop` and `start` make an outage; removed on exit.

    Never the machine's server: its own data directory, its own port, its own socket directory.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self._root = Path(tempfile.mkdtemp(prefix="imgopt-private-postgres-"))
        self._root.chmod(0o755)
        self._data = self._root / "data"
        self._bin = _binaries()
        self._user = _system_user()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def __enter__(self) -> "PrivatePostgres":
        self._data.mkdir()
        if self._user:
            shutil.chown(self._data, self._user, self._user)
        self._run("initdb", "-D", str(self._data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "-N")
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._run("pg_ctl", "-D", str(self._data), "-m", "immediate", "-w", "stop", check=False)
        finally:
            shutil.rmtree(self._root, ignore_errors=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self._data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        log = self._data / "server.log"
        self._run("pg_ctl", "-D", str(self._data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        """A fast shutdown: sessions are ended at once, as when an operator restarts the server."""
        self._run("pg_ctl", "-D", str(self._data), "-m", "fast", "-w", "-t", "60", "stop")

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        subprocess.run(
            [str(self._bin / program), *args],
            user=self._user,
            check=check,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self._root,
            timeout=120,
        )
