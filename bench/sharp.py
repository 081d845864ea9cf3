"""sharp, the original system's optimizer: installed with npm under bench/.work/node, run with node."""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.workspace import PACKAGE, work_dir

SCRIPT = PACKAGE / "node" / "sharp-bench.cjs"
MANIFEST = PACKAGE / "node" / "package.json"


class SharpUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class SharpRun:
    seconds: float
    cpu_seconds: float
    bytes: list[int]


def install() -> Path:
    """The folder whose node_modules holds the pinned sharp; npm runs only when it is missing or stale."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SharpUnavailable("node and npm are not on PATH")
    folder = work_dir("node")
    wanted = json.loads(MANIFEST.read_text())["dependencies"]["sharp"]
    installed = folder / "node_modules" / "sharp" / "package.json"
    if installed.is_file() and json.loads(installed.read_text()).get("version") == wanted:
        return folder
    shutil.copyfile(MANIFEST, folder / "package.json")
    try:
        npm = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        raise SharpUnavailable(f"npm install sharp@{wanted} did not finish within 5 minutes") from None
    if npm.returncode != 0:
        raise SharpUnavailable(f"npm install sharp@{wanted} failed: {npm.stderr.strip()[-500:]}")
    return folder


def installed_versions() -> dict[str, str] | None:
    """sharp's, libvips's and node's versions, when sharp is installed; None otherwise (nothing is installed here)."""
    folder = work_dir("node")
    if shutil.which("node") is None or not (folder / "node_modules" / "sharp").is_dir():
        return None
    try:
        return json.loads(_node({"nodeDir": str(folder), "versionsOnly": True}, threadpool=1))
    except RuntimeError:
        return None


def run(
    folder: Path,
    task: str,
    files: list[Path],
    workers: int,
    warmup: int = 2,
    save_dir: Path | None = None,
    cache: bool = True,
) -> SharpRun:
    """Time `task` over `files` in a fresh node process; the clock starts after the files are in memory."""
    job = {
        "nodeDir": str(folder),
        "task": task,
        "files": [str(file) for file in files],
        "workers": workers,
        "threadsPerImage": 1,
        "warmup": warmup,
        "saveDir": str(save_dir) if save_dir else None,
        "cache": cache,
    }
    answer = json.loads(_node(job, threadpool=workers))
    return SharpRun(answer["seconds"], answer["cpuSeconds"], answer["bytes"])


def _node(job: dict, threadpool: int) -> str:
    env = {**os.environ, "UV_THREADPOOL_SIZE": str(threadpool)}
    done = subprocess.run(["node", str(SCRIPT)], input=json.dumps(job), capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"the sharp script failed: {done.stderr.strip()[-1000:]}")
    return done.stdout
