"""The process's surroundings: time, randomness, ids, and the signal that wakes idle workers."""

import abc
from datetime import datetime
from uuid import UUID


class Clock(abc.ABC):
    @abc.abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""


class RandomSource(abc.ABC):
    @abc.abstractmethod
    def fraction(self) -> float:
        """A number drawn uniformly from [0, 1)."""


class IdGenerator(abc.ABC):
    @abc.abstractmethod
    def uuid(self) -> UUID: ...

    @abc.abstractmethod
    def message_id(self) -> str:
        """A new webhook message id, unique across the system."""

    @abc.abstractmethod
    def secret(self) -> str:
        """A new webhook signing secret, `whsec_` followed by base64 of 32 random bytes."""

    @abc.abstractmethod
    def api_key(self) -> str:
        """A new API key, `imgopt_` followed by base64url of 32 random bytes."""


class WorkSignal(abc.ABC):
    """Wakes idle workers when new work is committed, so they need not wait for the next poll."""

    @abc.abstractmethod
    def notify(self) -> None:
        """Announce committed work to every waiting worker, on any host."""

    @abc.abstractmethod
    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True when work was announced meanwhile."""
