"""`python -m bench --quick` runs its database measurement end to end; speed is never judged here."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_quick_ingest_benchmark_runs_and_reports_every_figure(postgres_server, tmp_path):
    output = tmp_path / "bench.json"
    env = {**os.environ, "IMGOPT_BENCH_DATABASE_URL": postgres_server}

    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "ingest", "--only", "pipeline", "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = {result["name"]: result for result in json.loads(output.read_text())["results"]}
    assert results["ingest"]["status"] == "ok"
    assert all(verdict["value"] is not None for verdict in results["ingest"]["verdicts"])
    assert results["pipeline"]["status"] == "not implemented yet"
