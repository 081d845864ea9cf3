"""The CPUs a worker may use, read from fake cgroup files: the smallest of cgroup v2, v1 and the affinity."""

from pathlib import Path

from imgopt.adapters.usable_cpus import usable_cpus


def cgroups(tmp_path: Path, proc: str, files: dict[str, str]) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    root.mkdir(parents=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    proc_self = tmp_path / "proc-self-cgroup"
    proc_self.write_text(proc)
    return root, proc_self


def cpus(root: Path, proc_self: Path, cores: int = 64) -> int:
    return usable_cpus(root, proc_self, affinity=lambda: cores)


def test_a_v2_quota_of_two_cpus_on_a_64_core_host_is_two(tmp_path):
    root, proc = cgroups(tmp_path, "0::/pod/app\n", {"pod/app/cpu.max": "200000 100000"})
    assert cpus(root, proc) == 2


def test_a_fraction_of_a_cpu_is_rounded_up(tmp_path):
    root, proc = cgroups(tmp_path, "0::/pod/app\n", {"pod/app/cpu.max": "150000 100000"})
    assert cpus(root, proc) == 2
    root, proc = cgroups(tmp_path / "small", "0::/\n", {"cpu.max": "10000 100000"})
    assert cpus(root, proc) == 1


def test_v2_max_is_no_limit_and_leaves_the_cores(tmp_path):
    root, proc = cgroups(tmp_path, "0::/pod/app\n", {"pod/app/cpu.max": "max 100000"})
    assert cpus(root, proc, cores=8) == 8


def test_a_parents_limit_bounds_a_child_without_one(tmp_path):
    files = {"pod/cpu.max": "300000 100000", "pod/app/cpu.max": "max 100000", "cpu.max": "max 100000"}
    root, proc = cgroups(tmp_path, "0::/pod/app\n", files)
    assert cpus(root, proc) == 3


def test_the_smallest_of_a_nested_child_and_its_parent_wins(tmp_path):
    files = {"pod/cpu.max": "400000 100000", "pod/app/cpu.max": "250000 100000"}
    root, proc = cgroups(tmp_path, "0::/pod/app\n", files)
    assert cpus(root, proc) == 3


def test_a_container_whose_mount_is_its_own_cgroup_reads_the_mount(tmp_path):
    # With a cgroup namespace off, /proc/self/cgroup names the host's path, absent under the mount.
    root, proc = cgroups(tmp_path, "0::/kubepods/pod1/abc\n", {"cpu.max": "200000 100000"})
    assert cpus(root, proc) == 2


def test_a_v1_cfs_quota_over_its_period(tmp_path):
    files = {"cpu,cpuacct/cpu.cfs_quota_us": "400000", "cpu,cpuacct/cpu.cfs_period_us": "100000"}
    root, proc = cgroups(tmp_path, "4:cpu,cpuacct:/docker/abc\n2:memory:/docker/abc\n", files)
    assert cpus(root, proc) == 4


def test_a_v1_quota_of_minus_one_is_no_limit(tmp_path):
    files = {"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}
    root, proc = cgroups(tmp_path, "1:cpu:/\n", files)
    assert cpus(root, proc, cores=6) == 6


def test_an_affinity_smaller_than_the_quota_wins(tmp_path):
    root, proc = cgroups(tmp_path, "0::/app\n", {"app/cpu.max": "800000 100000"})
    assert cpus(root, proc, cores=2) == 2


def test_no_cgroup_files_at_all_leaves_the_affinity_and_never_less_than_one(tmp_path):
    assert usable_cpus(tmp_path / "absent", tmp_path / "absent-proc", affinity=lambda: 5) == 5
    assert usable_cpus(tmp_path / "absent", tmp_path / "absent-proc", affinity=lambda: 0) == 1


def test_this_machine_gives_at_least_one_and_no_more_than_its_cores():
    import os

    assert 1 <= usable_cpus() <= (os.cpu_count() or 1)
