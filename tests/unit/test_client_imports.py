"""The client is what other services install: importing it pulls in none of the server."""

import json
import subprocess
import sys

# The server's own dependencies, and its layers: none may load with `import imgopt.client`.
SERVER_ONLY = {
    "litestar",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "PIL",
    "dependency_injector",
    "uvicorn",
    "schedule",
    "pgserver",
    "standardwebhooks",
    "testcontainers",
    "multipart",
}
SERVER_LAYERS = ("imgopt.domain", "imgopt.application", "imgopt.adapters", "imgopt.bootstrap", "imgopt.entrypoints")


def test_importing_the_client_loads_httpx_and_msgspec_and_nothing_of_the_server():
    script = "import json, sys; from imgopt.client import Client; print(json.dumps(sorted(sys.modules)))"

    loaded = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, check=True).stdout)

    assert {"httpx", "msgspec"} <= set(loaded)
    assert not SERVER_ONLY & {name.split(".")[0] for name in loaded}
    assert not [name for name in loaded if name.startswith(SERVER_LAYERS)]
