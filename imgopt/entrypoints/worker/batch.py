"""Outcomes on their way to the database: written in small groups, kept when a write fails."""

import time
from collections.abc import Callable, Collection
from uuid import UUID

from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.domain.model import ImageOutcome


class OutcomeBatch:
    """Outcomes waiting to be recorded: written together once the first has waited `max_wait` seconds,
    or at once when one is the last image its worker holds of its request (it may be the request's
    last: its uploader should not wait for others' images), as when nothing else is running. A
    write that fails keeps them for the next."""

    def __init__(self, record: RecordOutcomes, max_wait: float, observe: Callable[[list[ImageOutcome]], None]) -> None:
        self._record = record
        self._max_wait = max_wait
        self._observe = observe
        self._outcomes: list[ImageOutcome] = []
        self._first_at = 0.0
        self.recorded = 0

    @property
    def waiting(self) -> int:
        return len(self._outcomes)

    def add(self, outcome: ImageOutcome) -> None:
        if not self._outcomes:
            self._first_at = time.monotonic()
        self._outcomes.append(outcome)

    def due(self, running: Collection[UUID]) -> bool:
        """Whether to write now, with `running` the requests of the images still being processed."""
        if not self._outcomes:
            return False
        last_here = any(outcome.request_id not in running for outcome in self._outcomes)
        return last_here or time.monotonic() - self._first_at >= self._max_wait

    def flush(self) -> None:
        if self._outcomes:
            recorded = self._record(self._outcomes)
            self._outcomes = []
            self.recorded += len(recorded)
            self._observe(recorded)
