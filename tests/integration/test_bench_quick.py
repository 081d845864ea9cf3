"""`python -m bench --quick` runs every measurement once (CI runs it nowhere else); speed is never judged here."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The run started with the suite (tests.quick_bench) and may still be going when these tests come.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def quick_results(quick_bench) -> dict:
    """The results of `python -m bench --quick` by name (the run must succeed)."""
    code, printed = quick_bench.finished()
    assert code == 0, _failures(quick_bench.output) or printed
    return {result["name"]: result for result in json.loads(quick_bench.output.read_text())["results"]}


def _failures(output: Path) -> str:
    """Each failed measurement's name and traceback, which the printed table cuts to its cell's width."""
    if not output.is_file():
        return ""
    failed = [result for result in json.loads(output.read_text())["results"] if result["status"] == "failed"]
    return "\n\n".join(f"{result['name']} failed:\n" + "\n".join(result["notes"]) for result in failed)


def test_every_quick_benchmark_runs_and_reports_every_figure(quick_results):
    listed = subprocess.run(
        [sys.executable, "-m", "bench", "--list"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()

    assert sorted(quick_results) == sorted(listed)
    for name, result in quick_results.items():
        assert result["status"] == "ok", (name, result["notes"])
        assert all(verdict["value"] is not None for verdict in result["verdicts"]), name


def test_every_image_of_the_end_to_end_runs_was_optimized_and_announced(quick_results):
    # Every image of every end-to-end run was optimized and announced by a verified webhook, or there is no figure.
    pipeline, latency = quick_results["pipeline"]["details"], quick_results["latency"]["details"]

    assert [check["optimized"] for check in pipeline["checks"]] == [pipeline["images"]] * pipeline["rounds"]
    assert [check["optimized"] for check in latency["checks"]] == [1] * latency["runs"]


def test_the_queue_capacity_benchmark_reports_its_figures(quick_results):
    figures = {verdict["label"]: verdict["value"] for verdict in quick_results["queue-capacity"]["verdicts"]}

    assert figures["images/s, 2 hosts / 1 host"] > 0
    assert figures["host CPU per image outside the optimizer (real fetch, storage, queue)"] > 0


def test_the_reupload_benchmark_stores_nothing_the_second_time_and_reuses_every_image(quick_results):
    first, second = quick_results["reupload"]["details"]["runs"]
    images = quick_results["reupload"]["details"]["images"]

    assert (first["objects"], first["reused"]) == (images, 0)
    assert (second["objects"], second["bytes"], second["reused"], second["not_modified"]) == (0, 0, images, images)
