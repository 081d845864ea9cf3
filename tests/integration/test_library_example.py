"""The library example in docs/architecture.md runs as written: another service, its own process, no HTTP."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import LocalServer, Reply, csv_bytes

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
WEB_STACK = "\nimport sys; print(','.join(m for m in ('litestar', 'uvicorn') if m in sys.modules))"


def test_the_documented_example_ingests_processes_and_reads_status_without_the_web_stack(
    database_url, clean_database, corpus, tmp_path
):
    [example] = [
        b for b in re.findall(r"```python\n(.*?)```", ARCHITECTURE.read_text(), re.S) if "create_container" in b
    ]
    photo = (corpus / "small-320x240.jpg").read_bytes()
    environment = {
        **os.environ,
        "IMGOPT_DATABASE_URL": database_url,
        "IMGOPT_DATA_DIR": str(tmp_path / "data"),
        "IMGOPT_ALLOW_PRIVATE_NETWORKS": "true",  # the origin below is on loopback
    }
    with LocalServer() as origin:
        url = origin.route("/photo.jpg", Reply(photo, headers={"Content-Type": "image/jpeg"}))
        (tmp_path / "products.csv").write_bytes(csv_bytes(f"1,Hat,{url}"))

        run = subprocess.run(
            [sys.executable, "-c", example + WEB_STACK],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run.returncode == 0, run.stderr
    status_line, web_modules = run.stdout.splitlines()
    assert status_line.split() == ["completed", "1", "1"]
    assert web_modules == ""
    assert len(list((tmp_path / "data" / "files").rglob("*.jpg"))) == 1
