"""How many images a worker optimizes at once: what IMGOPT_WORKER_CONCURRENCY says, else one per core and one more."""

import os

from imgopt.bootstrap.settings import Settings


def test_by_default_a_worker_optimizes_one_image_more_than_it_has_cores(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert Settings().concurrency == 5


def test_a_concurrency_that_is_set_is_taken_as_it_is(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert Settings.from_env({"IMGOPT_WORKER_CONCURRENCY": "2"}).concurrency == 2


def test_a_host_that_cannot_count_its_cores_counts_as_one(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert Settings().concurrency == 2
