"""The library example in docs/architecture.md runs as written: another service, its own process, no HTTP."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import csv_bytes

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_the_documented_library_example_ingests_a_csv_through_the_use_cases(database_url, clean_database, tmp_path):
    [example] = [
        b for b in re.findall(r"```python\n(.*?)```", ARCHITECTURE.read_text(), re.S) if "create_container" in b
    ]
    (tmp_path / "products.csv").write_bytes(
        csv_bytes('1,Shirt,"https://a.example/1.jpg,https://a.example/2.jpg"', "2,Hat,https://a.example/3.jpg")
    )
    environment = {**os.environ, "IMGOPT_DATABASE_URL": database_url, "IMGOPT_DATA_DIR": str(tmp_path / "data")}

    run = subprocess.run(
        [sys.executable, "-c", example], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["pending", "2", "3"]
