"""How many images a worker optimizes at once: what IMGOPT_WORKER_CONCURRENCY says, else one per usable CPU and one
more; downloads and the database pool follow from it."""

import os

import pytest

from imgopt.bootstrap import settings as settings_module
from imgopt.bootstrap.settings import Settings, SettingsError


def usable(monkeypatch, cpus: int) -> None:
    monkeypatch.setattr(settings_module, "_usable_cpus", lambda: cpus)


def test_by_default_a_worker_optimizes_one_image_more_than_the_cpus_it_may_use(monkeypatch):
    usable(monkeypatch, 4)
    assert Settings().concurrency == 5


def test_the_host_cores_do_not_count_only_the_usable_ones(monkeypatch):
    usable(monkeypatch, 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)  # a 2-CPU pod on a 64-core node
    assert (Settings().concurrency, Settings().pool_size) == (3, 10)


def test_a_concurrency_that_is_set_is_taken_as_it_is(monkeypatch):
    usable(monkeypatch, 4)
    assert Settings.from_env({"IMGOPT_WORKER_CONCURRENCY": "2"}).concurrency == 2


def test_a_worker_downloads_four_images_for_each_it_optimizes_and_one_tenant_takes_half(monkeypatch):
    usable(monkeypatch, 2)
    settings = Settings()
    assert (settings.concurrency, settings.downloads, settings.tenant_downloads) == (3, 12, 6)


def test_the_database_pool_is_one_connection_per_optimizing_thread_and_four_at_least_ten(monkeypatch):
    usable(monkeypatch, 16)
    assert Settings().pool_size == 21
    assert Settings(worker_concurrency=2).pool_size == 10


def test_downloads_that_are_set_are_taken_and_a_tenant_never_gets_more_than_all(monkeypatch):
    settings = Settings.from_env({"IMGOPT_WORKER_DOWNLOADS": "5", "IMGOPT_WORKER_TENANT_DOWNLOADS": "9"})
    assert (settings.downloads, settings.tenant_downloads) == (5, 5)


def test_negative_downloads_are_refused_with_the_variable_named():
    with pytest.raises(SettingsError, match="IMGOPT_WORKER_TENANT_DOWNLOADS must be 0"):
        Settings(worker_tenant_downloads=-1)


def test_the_memory_budget_is_half_the_cgroups_limit_or_of_the_host_and_a_set_one_is_taken(tmp_path):
    from imgopt.bootstrap.settings import memory_limit_bytes

    limited, unlimited, missing = tmp_path / "memory.max", tmp_path / "v2-max", tmp_path / "none"
    limited.write_text("2147483648\n")
    unlimited.write_text("max\n")
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert memory_limit_bytes((missing, limited)) == 2147483648  # the host has more
    assert memory_limit_bytes((unlimited, missing)) == physical
    assert Settings(worker_memory_mb=1500).memory_budget_bytes == 1500 * 1024 * 1024
    assert Settings().memory_budget_bytes == memory_limit_bytes() // 2
    with pytest.raises(SettingsError, match="IMGOPT_WORKER_MEMORY_MB must be 0"):
        Settings(worker_memory_mb=-1)


def test_revalidation_groups_are_64_by_default_0_turns_them_off_and_a_negative_one_is_refused():
    assert Settings().worker_revalidation_group == 64
    assert Settings.from_env({"IMGOPT_WORKER_REVALIDATION_GROUP": "0"}).worker_revalidation_group == 0
    with pytest.raises(SettingsError, match="IMGOPT_WORKER_REVALIDATION_GROUP must be 0"):
        Settings(worker_revalidation_group=-1)
