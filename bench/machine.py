"""What the figures were measured on: CPU, cores, load, library versions, date, commit."""

import datetime
import os
import platform
import subprocess
from pathlib import Path

import PIL
from PIL import features

from bench.workspace import ROOT


def describe(sharp_versions: dict[str, str] | None, load_at_start: list[float]) -> dict[str, object]:
    """Taken at the end of a run; `load_at_start` (1, 5, 15-minute load averages) from its beginning."""
    sharp_versions = sharp_versions or {}
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "load_average_at_start": load_at_start,
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "pillow": PIL.__version__,
        "libjpeg_turbo": features.version("libjpeg_turbo") if features.check_feature("libjpeg_turbo") else None,
        "node": sharp_versions.get("node"),
        "sharp": sharp_versions.get("sharp"),
        "libvips": sharp_versions.get("vips"),
        "sharp_mozjpeg": sharp_versions.get("mozjpeg"),
        "commit": _commit(),
    }


def header(info: dict[str, object]) -> str:
    return (
        f"{info['date']} · {info['cpu']} · {info['cores']} cores · "
        f"load {info['load_average_at_start'][0]} -> {info['load_average_at_end'][0]} · "
        f"Python {info['python']} · Pillow {info['pillow']} (libjpeg-turbo {info['libjpeg_turbo']}) · "
        f"node {info['node']} · sharp {info['sharp']} (libvips {info['libvips']}, mozjpeg {info['sharp_mozjpeg']}) · "
        f"commit {info['commit']}"
    )


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _commit() -> str | None:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
