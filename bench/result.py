"""The shape every measurement returns: figures per subject, ratios against a reference, goals."""

import math
from dataclasses import dataclass, field

OK = "ok"
FAILED = "failed"


@dataclass(frozen=True)
class Goal:
    """`value op target`, e.g. a ratio >= 1.0 or a p99 < 20 ms."""

    op: str
    target: float

    def met(self, value: float) -> bool:
        if self.op == ">=":
            return value >= self.target
        return value < self.target if self.op == "<" else value <= self.target

    def describe(self, value: float) -> str:
        """Met or missed, and by how much, as a share of the target: "met, 12% above", "missed, 240% over"."""
        share = f"{abs(value / self.target - 1):.{_decimals(value / self.target - 1)}%}"
        if self.op == ">=":
            return f"met, {share} above" if self.met(value) else f"missed, {share} short"
        return f"met, {share} under" if self.met(value) else f"missed, {share} over"

    def __str__(self) -> str:
        return f"{'≥' if self.op == '>=' else self.op.replace('<=', '≤')} {self.target:g}"


def _decimals(fraction: float) -> int:
    # Small margins (SSIM, bytes) need digits that large ones (throughput) do not.
    return 2 if abs(fraction) < 0.01 else 1 if abs(fraction) < 0.1 else 0


@dataclass
class Measure:
    """One subject's median figure, with the samples it came from; `note` says why a value is missing."""

    subject: str
    metric: str
    value: float | None
    unit: str = ""
    samples: list[float] = field(default_factory=list)
    note: str = ""


@dataclass
class Verdict:
    """A comparison (usually candidate / reference, paired per round) and the goal it answers to."""

    label: str
    value: float | None
    unit: str = "x"
    goal: Goal | None = None
    samples: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.goal is None or self.value is None or math.isnan(self.value):
            return None
        return self.goal.met(self.value)


@dataclass
class Result:
    name: str
    title: str
    status: str = OK
    method: str = ""
    measures: list[Measure] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    seconds: float = 0.0
