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
MAX_QUALITY = 100  # qualities run 1 to this
MAX_DIMENSION = 16_384
AUTO = "auto"


@dataclass(frozen=True, slots=True)
class Quality:
    """A quality asked for: a level from 1 to MAX_QUALITY, or `auto` (the level is then not used).

    What an upload names in its `quality` field, and what a tenant's uploads get when they name none.
    """

    level: int = DEFAULT_QUALITY
    auto: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.level <= MAX_QUALITY:
            raise InvalidOptions(f"quality must be between 1 and {MAX_QUALITY}, got {self.level}")

    @classmethod
    def parse(cls, value: str | int) -> "Quality":
        """A level ("80", 80) or "auto" (any case, spaces around it dropped); InvalidOptions naming `quality` else."""
        if isinstance(value, str) and value.strip().lower() == AUTO:
            return cls(auto=True)
        level = _integer("quality", value, None)
        if level is None:
            raise InvalidOptions(f"quality must be a whole number or {AUTO}, got {value!r}")
        return cls(level)

    def __str__(self) -> str:
        return AUTO if self.auto else str(self.level)


ORIGINAL_QUALITY = Quality()
"""The original system's q50: what tenants that existed before tenants had a default quality keep."""


@dataclass(frozen=True, slots=True)
class OptimizationOptions:
    """`auto_quality` asks the optimizer to find, per image, the smallest encoding that still looks right
    (a perceptual target it is configured with); `quality` is then not used."""

    quality: int = DEFAULT_QUALITY
    max_width: int | None = None
    max_height: int | None = None
    format: OutputFormat = OutputFormat.ORIGINAL
    auto_quality: bool = False

    def __post_init__(self) -> None:
        Quality(self.quality)  # the range is a quality's, stated there
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
        default_quality: Quality = ORIGINAL_QUALITY,
    ) -> "OptimizationOptions":
        """Options from loosely typed input (form fields), with errors that name the field; quality may be "auto".

        A quality left out (None or blank) is `default_quality`: the tenant's, for an upload.
        """
        try:
            output_format = OutputFormat((format or OutputFormat.ORIGINAL).strip().lower())
        except ValueError:
            allowed = ", ".join(f.value for f in OutputFormat)
            raise InvalidOptions(f"format must be one of {allowed}, got {format!r}") from None
        chosen = default_quality if _left_out(quality) else Quality.parse(quality)
        return cls(
            quality=chosen.level,
            max_width=_integer("maxWidth", max_width, None),
            max_height=_integer("maxHeight", max_height, None),
            format=output_format,
            auto_quality=chosen.auto,
        )


def _left_out(value: str | int | None) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _integer(name: str, value: str | int | None, default: int | None) -> int | None:
    if _left_out(value):
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        hint = f" or {AUTO}" if name == "quality" else ""
        raise InvalidOptions(f"{name} must be a whole number{hint}, got {value!r}")
    return int(text)
