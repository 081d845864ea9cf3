"""VipsOptimizer: libvips decodes, shrinks on load, resizes and writes still photos; Pillow does everything else."""

from dataclasses import dataclass

import pyvips

from imgopt.adapters.imaging.geometry import check_pixels, fit
from imgopt.adapters.imaging.pillow import PillowOptimizer
from imgopt.adapters.imaging.producer import libvips_version
from imgopt.adapters.imaging.targets import LOSSY
from imgopt.adapters.imaging.vips_pixels import STILL_SOURCES, VipsPixels, still_photo
from imgopt.application.ports import ImageOptimizer, OptimizedImage
from imgopt.domain.formats import SNIFF_BYTES, ImageFormat, sniff
from imgopt.domain.image_results import ImageResult
from imgopt.domain.options import OptimizationOptions, OutputFormat

# Orientations 5 to 8 turn the photo a quarter, so its stored width is its upright height.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})


class VipsOptimizer(ImageOptimizer):
    """The same contract as PillowOptimizer, with libvips's SIMD resampler and decoders for still photos.

    Still 8-bit JPEG, PNG and WebP sources made smaller, written as JPEG, PNG or WebP, take the libvips
    path: decoding (a JPEG shrinks by 1/2, 1/4 or 1/8 while decoding, as sharp does), Lanczos-3, ICC
    profile to sRGB, orientation; the pixels then go to the encoders both optimizers share. A resized
    image never falls under the never-larger rule (the original is not what was asked for).
    Animations, palettes, 16-bit, CMYK, GIF, TIFF, AVIF, and files libvips cannot read go to a
    PillowOptimizer, which also gives the reasons for failures (and sets libvips to one thread per image).
    """

    def __init__(self, pillow: PillowOptimizer | None = None) -> None:
        """`pillow` does what libvips does not, and lends its limits, encoders and quality search."""
        self._pillow = pillow or PillowOptimizer()

    @property
    def producer(self) -> str:
        """libvips's version, and Pillow's producer: its encoders write every output."""
        return f"vips={libvips_version()} {self._pillow.producer}"

    def optimize(self, data: bytes, options: OptimizationOptions) -> OptimizedImage:
        job = self._job(data, options)
        if job is None:
            return self._pillow.optimize(data, options)
        try:
            pixels = VipsPixels.load(data, job.source, job.header, job.size)
            rendered = pixels.rendered(job.size, opaque=job.target is ImageFormat.JPEG)
            image, choice = rendered.to_pillow(), None
            if options.auto_quality and job.target in LOSSY:
                encode = self._pillow.encoders.lossy(job.target)
                choice, encoded = self._pillow.quality_search(image, encode, calibrated=job.target is ImageFormat.JPEG)
            else:
                encoded = self._pillow.encoders.encode(image, job.target, options.quality, lossless=False)
        except pyvips.Error:
            # Damage libvips finds while decoding: Pillow decodes what it can, or fails with its reason.
            return self._pillow.optimize(data, options)
        return OptimizedImage(
            encoded, job.target.extension,
            ImageResult(
                job.target.media_type, len(data), len(encoded), rendered.width, rendered.height,
                choice.quality if choice else None, choice.score if choice else None,
            ),
        )  # fmt: skip

    def _job(self, data: bytes, options: OptimizationOptions) -> "_Job | None":
        """What libvips is to do with `data`, or None where Pillow does the work."""
        source = sniff(data[:SNIFF_BYTES])
        if source is None or not still_photo(data, source):
            return None
        target = source if options.format is OutputFormat.ORIGINAL else ImageFormat(options.format.value)
        if target not in STILL_SOURCES:
            return None
        try:
            header = pyvips.Image.new_from_buffer(data, "", access="sequential", fail_on="truncated")
        except pyvips.Error:
            return None
        if not VipsPixels.handles(header):
            return None
        check_pixels((header.width, header.height), self._pillow.max_pixels)
        orientation = header.get("orientation") if header.get_typeof("orientation") else 1
        bounds = (options.max_width, options.max_height)
        size = fit((header.width, header.height), *(bounds[::-1] if orientation in _QUARTER_TURNS else bounds))
        # Without a resize there is nothing for libvips to win: Pillow decodes a JPEG 1.4x as fast.
        return None if size == (header.width, header.height) else _Job(source, target, header, size)


@dataclass(frozen=True, slots=True)
class _Job:
    source: ImageFormat
    target: ImageFormat
    header: pyvips.Image
    size: tuple[int, int]  # as the pixels are stored, before they are turned upright
