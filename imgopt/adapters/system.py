"""The system clock, random ids and random numbers."""

import base64
import os
import random
import secrets
import socket
import uuid
from datetime import UTC, datetime

from imgopt.application.ports import Clock, IdGenerator, RandomSource
from imgopt.domain.tenancy import KEY_PREFIX
from imgopt.domain.webhooks import SECRET_PREFIX


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class SystemRandomSource(RandomSource):
    def fraction(self) -> float:
        return random.random()


class RandomIds(IdGenerator):
    def uuid(self) -> uuid.UUID:
        return uuid.uuid4()

    def message_id(self) -> str:
        return f"msg_{uuid.uuid4().hex}"

    def secret(self) -> str:
        return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()

    def api_key(self) -> str:
        return KEY_PREFIX + secrets.token_urlsafe(32)


def new_worker_id() -> str:
    """host:pid:random, so a worker's jobs can be told apart from another's, even after a restart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
