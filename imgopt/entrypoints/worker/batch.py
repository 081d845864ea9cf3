"""Outcomes on their way to the database: written in small groups, kept when a write fails."""

import time
from collections.abc import Callable

from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.domain.image_jobs import ImageOutcome


class OutcomeBatch:
    """Outcomes waiting to be recorded: written together once the first has waited `max_wait` seconds,
    or at once when one may finish its request (its uploader should not wait for others' images),
    or when nothing else is running. A write that fails keeps them for the next."""

    def __init__(self, record: RecordOutcomes, max_wait: float, observe: Callable[[list[ImageOutcome]], None]) -> None:
        self._record = record
        self._max_wait = max_wait
        self._observe = observe
        self._outcomes: list[ImageOutcome] = []
        self._first_at = 0.0
        self._finishing = False
        self.recorded = 0

    @property
    def waiting(self) -> int:
        return len(self._outcomes)

    @property
    def job_ids(self) -> list[int]:
        return [outcome.job_id for outcome in self._outcomes]

    def add(self, outcome: ImageOutcome, finishing: bool = False) -> None:
        """Keep `outcome`; `finishing` when its image was among the last of its request (`ImageJob.finishing`)."""
        if not self._outcomes:
            self._first_at = time.monotonic()
        self._outcomes.append(outcome)
        self._finishing = self._finishing or finishing

    def due(self, idle: bool) -> bool:
        if not self._outcomes:
            return False
        return idle or self._finishing or time.monotonic() - self._first_at >= self._max_wait

    def flush(self) -> None:
        if self._outcomes:
            recorded = self._record(self._outcomes)
            self._outcomes = []
            self._finishing = False
            self.recorded += len(recorded)
            self._observe(recorded)
