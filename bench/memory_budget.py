"""Peak memory of one worker's optimizer given three large images at once: the memory budget admitting
two of them against a budget that admits all three. `uv run python -m bench.memory_budget [ROUNDS]`.

Each run is a fresh process (so its peak is its own): three threads hand the default optimizer
(`IMGOPT_OPTIMIZER=vips`, 16-bit images go to Pillow inside it) one 5000x5000 RGBA image of 16-bit
samples each (200 MB decoded, counted 600 MB), through `MemoryBoundedOptimizer`. It reports the
peak resident set (`ru_maxrss`) and what is resident after the last image. Rounds alternate the two
budgets; the figure is the ratio of peaks, never judged.
"""

import json
import resource
import subprocess
import sys
import threading
from pathlib import Path
from statistics import median

import pyvips

from bench.workspace import work_dir
from imgopt.adapters.imaging.memory_budget import PIPELINE_COPIES, MemoryBoundedOptimizer, MemoryBudget, decoded_bytes
from imgopt.adapters.imaging.pillow import PillowOptimizer
from imgopt.adapters.imaging.vips import VipsOptimizer
from imgopt.bootstrap.tuning import keep_freed_memory
from imgopt.domain.options import OptimizationOptions

SIDE = 5000


def images() -> list[Path]:
    folder = work_dir("memory-budget")
    paths = [folder / f"rgba16-{n}.png" for n in range(3)]
    for n, path in enumerate(paths):
        if not path.exists():
            noise = pyvips.Image.gaussnoise(SIDE, SIDE, mean=20000 + 5000 * n, sigma=3000)
            image = noise.bandjoin([noise, noise, noise]).cast("ushort").copy(interpretation="rgb16")
            image.pngsave(str(path), compression=1)
    return paths


def resident_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run(admitted: int) -> dict:
    keep_freed_memory()  # as `imgopt worker` runs
    data = [path.read_bytes() for path in images()]
    cost = decoded_bytes(data[0]) * PIPELINE_COPIES
    budget = MemoryBudget(limit=admitted * cost + cost // 2)
    optimizer = MemoryBoundedOptimizer(VipsOptimizer(PillowOptimizer()), budget, trim_above=256 * 1024 * 1024)
    threads = [threading.Thread(target=optimizer.optimize, args=(image, OptimizationOptions())) for image in data]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"admitted": admitted, "peak_mb": round(peak / 1024), "after_mb": round(resident_kib() / 1024)}


def main(rounds: int) -> None:
    images()
    results: dict[int, list[dict]] = {2: [], 3: []}
    for n in range(rounds):
        for admitted in (2, 3) if n % 2 == 0 else (3, 2):
            output = subprocess.run(
                [sys.executable, "-m", "bench.memory_budget", "--run", str(admitted)],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            results[admitted].append(json.loads(output.splitlines()[-1]))
            print(results[admitted][-1], flush=True)
    peaks = {admitted: median(r["peak_mb"] for r in runs) for admitted, runs in results.items()}
    print(json.dumps({"peak_mb": peaks, "ratio_two_to_three": round(peaks[2] / peaks[3], 3)}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--run"]:
        print(json.dumps(run(int(sys.argv[2]))))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
