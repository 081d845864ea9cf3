"""The CPUs this process may use: a container's CPU limit and the cores it is pinned to, not the host's count.

A pod limited to 2 CPUs on a 64-core node sees `os.cpu_count() == 64`; sizing a worker from that would
optimize ~65 images at once on 2 CPUs' worth of time. The limit lives in the cgroup: v2's `cpu.max`
("200000 100000": 2 CPUs; "max 100000": none), on the process's own cgroup or any parent up to the
mount (a limit set on the pod bounds every container in it), or v1's `cpu.cfs_quota_us` /
`cpu.cfs_period_us` (-1: none). The cores the scheduler lets it run on (`taskset`, cpusets) bound it too.
"""

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
V1_CPU_CONTROLLERS = ("cpu,cpuacct", "cpu", "cpuacct,cpu")


def usable_cpus(
    cgroup_root: Path = CGROUP_ROOT,
    proc_self_cgroup: Path = PROC_SELF_CGROUP,
    affinity: Callable[[], int] | None = None,
) -> int:
    """The smallest of the cgroup's CPU quota (v2 or v1, this cgroup or a parent's) and the cores this
    process may run on, rounded up, at least 1."""
    cores = (affinity or _affinity)()
    limits = [float(cores), *_v2_limits(cgroup_root, proc_self_cgroup), *_v1_limits(cgroup_root, proc_self_cgroup)]
    return max(1, math.ceil(min(limits)))


def _affinity() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _memberships(proc_self_cgroup: Path) -> Iterator[tuple[list[str], str]]:
    """The (controllers, path) of each line of /proc/self/cgroup: "0::/a/b" (v2), "4:cpu,cpuacct:/a" (v1)."""
    try:
        lines = proc_self_cgroup.read_text().splitlines()
    except OSError:
        return
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            yield (parts[1].split(",") if parts[1] else []), parts[2]


def _own_and_parents(mount: Path, path: str) -> Iterator[Path]:
    """The process's cgroup folder under `mount` and each parent up to the mount itself.

    Inside a container the mount is often the container's own cgroup while /proc/self/cgroup names the
    host's path (or "/.."): then only the mount is there to read."""
    mount = mount.resolve()
    own = (mount / path.lstrip("/")).resolve()
    folder = own if own.is_dir() and own.is_relative_to(mount) else mount
    while True:
        yield folder
        if folder == mount or folder.parent == folder:
            return
        folder = folder.parent


def _v2_limits(root: Path, proc_self_cgroup: Path) -> Iterator[float]:
    for controllers, path in _memberships(proc_self_cgroup):
        if controllers:  # v1 lines
            continue
        for folder in _own_and_parents(root, path):
            fields = _read(folder / "cpu.max").split()
            if len(fields) == 2 and fields[0] != "max" and _positive(fields[0]) and _positive(fields[1]):
                yield int(fields[0]) / int(fields[1])


def _v1_limits(root: Path, proc_self_cgroup: Path) -> Iterator[float]:
    for controllers, path in _memberships(proc_self_cgroup):
        if "cpu" not in controllers:
            continue
        for name in V1_CPU_CONTROLLERS:
            mount = root / name
            if not mount.is_dir():
                continue
            for folder in _own_and_parents(mount, path):
                quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
                if _positive(quota) and _positive(period):  # a quota of -1: none
                    yield int(quota) / int(period)
            return


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _positive(raw: str) -> bool:
    return raw.isdigit() and int(raw) > 0
