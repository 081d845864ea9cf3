"""`python -m bench --quick` started with the test run, in a process of its own, and read when its tests come.

The quick bench takes about 4 minutes, mostly waiting on servers it starts; run after the rest it
was the largest single part of the suite's time. It runs beside the other tests instead, and its
tests (tests/integration/test_bench_quick.py) wait for it.
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_FILE = "test_bench_quick.py"

# The whole quick run: about 4 minutes on 2 quiet cores, twice that on a busy host beside the suite.
TIMEOUT_SECONDS = 840


@dataclass
class QuickBench:
    process: subprocess.Popen
    output: Path
    log: Path
    started: float

    def finished(self) -> tuple[int, str]:
        """Its exit code once it ends (killed at TIMEOUT_SECONDS from its start), and the tail of what it printed."""
        try:
            code = self.process.wait(timeout=max(1.0, self.started + TIMEOUT_SECONDS - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.stop()
            code = self.process.returncode
        return code, self.log.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_quick_bench(postgres_server: str, folder: Path) -> QuickBench:
    output, log = folder / "bench.json", folder / "bench.log"
    env = {**os.environ, "IMGOPT_BENCH_DATABASE_URL": postgres_server}
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return QuickBench(process, output, log, time.monotonic())
