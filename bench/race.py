"""Kernel subjects timed in interleaved rounds, two workers each: rates, first-round outputs, who could not run."""

import contextlib
import math
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench import sharp
from bench.result import Goal, Verdict
from bench.stats import column, interleave, median, paired_ratios
from bench.subjects import Kernel, run_threads
from bench.workspace import work_dir

WORKERS = 2
LAYOUT = (
    f"{WORKERS} workers each: imgopt and bare Pillow on {WORKERS} Python threads (Pillow releases the GIL while "
    f"decoding and encoding); sharp with sharp.concurrency(1) and {WORKERS} images in flight on "
    f"UV_THREADPOOL_SIZE={WORKERS} — two images at a time, one thread each, on every side. Inputs are read into "
    "memory before the clock starts; each subject is warmed up on 2 images first; outputs stay in memory while timed."
)
CPU_NOTE = (
    "Per CPU-second = images over the subject process's CPU time (user + system) in the timed window: work per "
    "image, much less disturbed than wall time when other jobs share the machine; the goals use wall time."
)


@dataclass
class Race:
    rates: dict[str, list[float]]  # images per wall-clock second, one sample per round
    cpu_rates: dict[str, list[float]]  # images per CPU-second of the subject's process
    outputs: dict[str, list[bytes]]  # from each subject's first round, in input order
    missing: dict[str, str]  # subjects that could not run, and why

    def ratio(
        self, candidate: str, reference: str, metric: str, goal: Goal | None = None, per_cpu: bool = False
    ) -> Verdict:
        """candidate / reference rate, paired round by round."""
        label = f"{candidate} / {reference} {metric}"
        if candidate in self.missing or reference in self.missing:
            return Verdict(label, None, goal=goal, note=self.missing.get(candidate) or self.missing[reference])
        series = self.cpu_rates if per_cpu else self.rates
        ratios = paired_ratios(series[candidate], series[reference])
        return Verdict(label, median(ratios), goal=goal, samples=ratios)

    def total_bytes(self) -> dict[str, int]:
        return {name: sum(map(len, produced)) for name, produced in self.outputs.items()}


def race(
    factories: dict[str, Callable[[], Kernel]], sharp_task: str, files: list[Path], rounds: int, sharp_cache: bool
) -> Race:
    """Python subjects from `factories` and sharp's `sharp_task`, over `files`, in `rounds` interleaved rounds."""
    with contextlib.ExitStack() as pools:
        return _race(factories, sharp_task, files, rounds, sharp_cache, pools)


def _race(
    factories: dict[str, Callable[[], Kernel]],
    sharp_task: str,
    files: list[Path],
    rounds: int,
    sharp_cache: bool,
    pools: contextlib.ExitStack,
) -> Race:
    inputs = [file.read_bytes() for file in files]
    outputs: dict[str, list[bytes]] = {}
    missing: dict[str, str] = {}
    runs = {}
    for name, factory in factories.items():
        kernel = factory()
        pool = pools.enter_context(ThreadPoolExecutor(WORKERS))
        run_threads(kernel, inputs[:2], pool)  # warm-up: lazy imports, first allocations

        def timed(name: str = name, kernel: Kernel = kernel, pool: ThreadPoolExecutor = pool) -> dict[str, float]:
            seconds, cpu_seconds, produced = run_threads(kernel, inputs, pool)
            outputs.setdefault(name, produced)
            return {"rate": len(inputs) / seconds, "cpu_rate": len(inputs) / cpu_seconds}

        runs[name] = timed
    try:
        folder = sharp.install()
    except sharp.SharpUnavailable as exc:
        missing["sharp"] = f"sharp unavailable: {exc}"
    else:
        save_dir = work_dir("out", sharp_task)
        shutil.rmtree(save_dir)

        def timed_sharp() -> dict[str, float]:
            first = "sharp" not in outputs
            run = sharp.run(folder, sharp_task, files, WORKERS, save_dir=save_dir if first else None, cache=sharp_cache)
            if first:
                outputs["sharp"] = [(save_dir / f"{index}.jpg").read_bytes() for index in range(len(files))]
            return {"rate": len(files) / run.seconds, "cpu_rate": len(files) / run.cpu_seconds}

        runs["sharp"] = timed_sharp
    samples = interleave(runs, rounds)
    return Race(
        rates={name: column(values, "rate") for name, values in samples.items()},
        cpu_rates={name: column(values, "cpu_rate") for name, values in samples.items()},
        outputs=outputs,
        missing=missing,
    )


def plain_ratio(
    values: dict[str, float], missing: dict[str, str], candidate: str, reference: str, metric: str, goal=None
) -> Verdict:
    """candidate / reference of one figure per subject (bytes, mean SSIM), not sampled per round."""
    label = f"{candidate} / {reference} {metric}"
    if candidate in missing or reference in missing:
        return Verdict(label, None, goal=goal, note=missing.get(candidate) or missing[reference])
    top, bottom = values[candidate], values[reference]
    if math.isnan(top) or math.isnan(bottom) or not bottom:
        return Verdict(label, None, goal=goal, note="no value: an output differed in size from its input")
    return Verdict(label, top / bottom, goal=goal)
