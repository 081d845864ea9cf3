"""Telling the outside world: webhook URLs checked, events put in their public form, deliveries sent."""

import abc
from datetime import datetime
from typing import Any

from imgopt.domain.errors import DomainError
from imgopt.domain.status import StatusSummary
from imgopt.domain.webhooks import AttemptResult


class UnsafeUrl(DomainError):
    code = "unsafe_url"


class UrlPolicy(abc.ABC):
    @abc.abstractmethod
    def check(self, url: str) -> str | None:
        """Raise UnsafeUrl unless `url` is http(s) and its host resolves to public addresses only.

        A host that does not resolve right now is not refused (DNS may be down for a moment):
        the answer is then a warning saying so, else None."""


class EventDocuments(abc.ABC):
    """The public form of events, as webhooks carry them."""

    @abc.abstractmethod
    def request_finished(self, summary: StatusSummary, output_csv_url: str, at: datetime) -> dict[str, Any]: ...


class WebhookSender(abc.ABC):
    @abc.abstractmethod
    def send(self, url: str, headers: dict[str, str], body: bytes, content_type: str) -> AttemptResult:
        """POST once, following no redirects; never raises for the receiver's failures."""
