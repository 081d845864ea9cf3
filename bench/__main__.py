"""`python -m bench [--quick] [--only NAME]`: run the measurements, print the table, write the JSON."""

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from bench import (
    api,
    auto,
    broad,
    capacity,
    details,
    encoders,
    fairness,
    ingest,
    kernel,
    machine,
    pipeline,
    pipeline_s3,
    report,
    reupload,
    sharp,
    soak,
)
from bench.result import FAILED, Result
from bench.workspace import RESULTS

MEASUREMENTS: dict[str, Callable[[bool], Result]] = {
    "kernel-original": kernel.kernel_original,
    "kernel-sharp-task": kernel.kernel_sharp_task,
    "encoders": encoders.encoders,
    "auto-quality": auto.auto_quality,
    "broad": broad.broad,
    "pipeline": pipeline.pipeline,
    "pipeline-s3": pipeline_s3.pipeline_s3,
    "latency": pipeline.latency,
    "ingest": ingest.ingest,
    "api": api.api,
    "fairness": fairness.fairness,
    "details": details.details,
    "soak": soak.soak,
    "queue-capacity": capacity.queue_capacity,
    "reupload": reupload.reupload,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small version of everything, for CI (no judging)")
    parser.add_argument("--only", action="append", choices=list(MEASUREMENTS), metavar="NAME", help="repeatable")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--list", action="store_true", help="list the measurements and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(MEASUREMENTS))
        return 0
    # Wide enough for the tables when the output goes to a file or a CI log rather than a terminal.
    console = Console() if sys.stdout.isatty() else Console(width=160)
    load_at_start = [round(value, 2) for value in os.getloadavg()]
    results = []
    for name in dict.fromkeys(args.only or MEASUREMENTS):
        console.rule(name)
        results.append(_run(name, args.quick))
        console.print(f"[dim]{name}: {results[-1].status} in {results[-1].seconds:.0f} s[/dim]")
    info = machine.describe(sharp.installed_versions(), load_at_start)
    report.write_json(args.output, args.quick, info, results)
    report.render(console, args.quick, info, results)
    console.print(f"[dim]written to {args.output}[/dim]")
    # Missed goals never fail the run (CI must not judge speed); a measurement that crashed does.
    return 1 if any(result.status == FAILED for result in results) else 0


def _run(name: str, quick: bool) -> Result:
    start = time.perf_counter()
    try:
        result = MEASUREMENTS[name](quick)
    except Exception:
        result = Result(name, name, status=FAILED, notes=[traceback.format_exc()])
    result.seconds = time.perf_counter() - start
    return result


if __name__ == "__main__":
    sys.exit(main())
