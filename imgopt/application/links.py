"""Public URLs of the things imgopt serves."""

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Links:
    base_url: str

    def output_csv(self, request_id: UUID) -> str:
        return f"{self.base_url.rstrip('/')}/status/{request_id}/output.csv"
