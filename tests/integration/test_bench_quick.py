"""`python -m bench --quick` runs its database and end-to-end measurements; speed is never judged here."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_quick_database_and_end_to_end_benchmarks_run_and_report_every_figure(postgres_server, tmp_path):
    output = tmp_path / "bench.json"
    env = {**os.environ, "IMGOPT_BENCH_DATABASE_URL": postgres_server}
    only = [arg for name in ("ingest", "pipeline", "latency", "fairness") for arg in ("--only", name)]

    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", *only, "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = {result["name"]: result for result in json.loads(output.read_text())["results"]}
    for name in ("ingest", "pipeline", "latency", "fairness"):
        assert results[name]["status"] == "ok", results[name]["notes"]
        assert all(verdict["value"] is not None for verdict in results[name]["verdicts"]), name
    # Every image of every end-to-end run was optimized and announced by a verified webhook, or there is no figure.
    pipeline, latency = results["pipeline"]["details"], results["latency"]["details"]
    assert [check["optimized"] for check in pipeline["checks"]] == [pipeline["images"]] * pipeline["rounds"]
    assert [check["optimized"] for check in latency["checks"]] == [1] * latency["runs"]
