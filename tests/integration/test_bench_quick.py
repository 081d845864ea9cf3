"""`python -m bench --quick` runs its database and end-to-end measurements; speed is never judged here."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick(names: tuple[str, ...], postgres_server: str, output: Path) -> dict:
    """`python -m bench --quick --only …` on the test server; the results by name (the run must succeed)."""
    env = {**os.environ, "IMGOPT_BENCH_DATABASE_URL": postgres_server}
    only = [arg for name in names for arg in ("--only", name)]
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", *only, "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {result["name"]: result for result in json.loads(output.read_text())["results"]}


def test_the_quick_database_and_end_to_end_benchmarks_run_and_report_every_figure(postgres_server, tmp_path):
    results = quick(("ingest", "pipeline", "latency", "fairness"), postgres_server, tmp_path / "bench.json")

    for name in ("ingest", "pipeline", "latency", "fairness"):
        assert results[name]["status"] == "ok", results[name]["notes"]
        assert all(verdict["value"] is not None for verdict in results[name]["verdicts"]), name
    # Every image of every end-to-end run was optimized and announced by a verified webhook, or there is no figure.
    pipeline, latency = results["pipeline"]["details"], results["latency"]["details"]
    assert [check["optimized"] for check in pipeline["checks"]] == [pipeline["images"]] * pipeline["rounds"]
    assert [check["optimized"] for check in latency["checks"]] == [1] * latency["runs"]


def test_the_quick_queue_capacity_benchmark_runs_and_reports_its_figures(postgres_server, tmp_path):
    results = quick(("queue-capacity",), postgres_server, tmp_path / "bench.json")

    assert results["queue-capacity"]["status"] == "ok", results["queue-capacity"]["notes"]
    # The database's CPU is only known where its backends are processes of this host.
    figures = {verdict["label"]: verdict["value"] for verdict in results["queue-capacity"]["verdicts"]}
    assert figures["images/s, 2 hosts / 1 host"] > 0
    assert figures["host CPU per image outside the optimizer (real fetch, storage, queue)"] > 0
