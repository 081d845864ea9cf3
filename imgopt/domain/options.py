"""Per-upload optimization options; the default is the original system's job."""

from dataclasses import dataclass
from enum import StrEnum

from imgopt.domain.errors import InvalidOptions


class OutputFormat(StrEnum):
    ORIGINAL = "original"
    JPEG = "jpeg"
    WEBP = "webp"
    AVIF = "avif"
    PNG = "png"


DEFAULT_QUALITY = 50
MAX_DIMENSION = 16_384


@dataclass(frozen=True, slots=True)
class OptimizationOptions:
    quality: int = DEFAULT_QUALITY
    max_width: int | None = None
    max_height: int | None = None
    format: OutputFormat = OutputFormat.ORIGINAL

    def __post_init__(self) -> None:
        if not 1 <= self.quality <= 100:
            raise InvalidOptions(f"quality must be between 1 and 100, got {self.quality}")
        for name, value in (("maxWidth", self.max_width), ("maxHeight", self.max_height)):
            if value is not None and not 1 <= value <= MAX_DIMENSION:
                raise InvalidOptions(f"{name} must be between 1 and {MAX_DIMENSION}, got {value}")

    @classmethod
    def parse(
        cls,
        quality: str | int | None = None,
        max_width: str | int | None = None,
        max_height: str | int | None = None,
        format: str | None = None,
    ) -> "OptimizationOptions":
        """Options from loosely typed input (form fields), with errors that name the field."""
        try:
            output_format = OutputFormat((format or OutputFormat.ORIGINAL).strip().lower())
        except ValueError:
            allowed = ", ".join(f.value for f in OutputFormat)
            raise InvalidOptions(f"format must be one of {allowed}, got {format!r}") from None
        return cls(
            quality=_integer("quality", quality, DEFAULT_QUALITY),
            max_width=_integer("maxWidth", max_width, None),
            max_height=_integer("maxHeight", max_height, None),
            format=output_format,
        )


def _integer(name: str, value: str | int | None, default: int | None) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise InvalidOptions(f"{name} must be a whole number, got {value!r}")
    return int(text)
