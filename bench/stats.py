"""Interleaved repetitions and the medians taken from them."""

import statistics
from collections.abc import Callable, Mapping


def interleave(runs: Mapping[str, Callable[[], dict[str, float]]], rounds: int) -> dict[str, list[dict[str, float]]]:
    """Run every subject once per round, rotating the order so no subject always goes first or last.

    Paired samples from one round saw the same machine conditions, which matters on a shared host.
    """
    names = list(runs)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(runs[name]())
    return samples


def column(samples: list[dict[str, float]], metric: str) -> list[float]:
    return [sample[metric] for sample in samples]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def paired_ratios(candidate: list[float], reference: list[float]) -> list[float]:
    """candidate / reference round by round, so slow and fast moments of the machine cancel out."""
    return [c / r for c, r in zip(candidate, reference, strict=True) if r]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
