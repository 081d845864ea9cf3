"""What makes the optimizers' outputs what they are, as one string: remembered outputs of another are not reused.

A re-upload whose source did not change reuses the output remembered of it (domain.sources) only while
the same producer would make the same output: the engine, this package's encoding (ENCODING_VERSION),
its tuned JPEG tables, the encoder settings, auto quality's target and the codec libraries' versions
(Pillow's, and libvips's: textures are written by its mozjpeg).
The tables are fingerprinted from their values, so retuning them needs no bump; any other change to what
an image becomes (an encoder setting, the quality search, resampling) bumps ENCODING_VERSION.
"""

import hashlib

import PIL
import pyvips

from imgopt.adapters.imaging import content, jpeg_tables

# Bump with every change to what an image becomes that the parts below do not already show.
# 2: JPEG tables chosen by the kind of picture (content.classify).
# 3: textures written with mozjpeg's trellis quantisation, through libvips (trellis.py).
# 4: a JPEG source over coarse steps of its own written with finer ones (requantisation.py).
ENCODING_VERSION = 4


def tables_fingerprint() -> str:
    """The JPEG tables of every kind of picture and how they are chosen, hashed: changing any changes JPEGs made."""
    kinds = [content.Picture(kind, share) for kind in content.Content for share in (0.0, 0.25, 0.5)]
    tables = (
        [jpeg_tables.quantisation_tables(quality, kind) for kind in kinds for quality in (10, 50, 90)],
        jpeg_tables.LUMA_OFFSET,
        jpeg_tables.CHROMA_OFFSET,
        sorted(
            (name, value) for name, value in vars(content).items() if name.isupper() and isinstance(value, int | float)
        ),
    )
    return hashlib.sha256(repr(tables).encode()).hexdigest()[:12]


def pillow_producer(avif_speed: int, png_compress_level: int, auto_quality_target: float) -> str:
    return (
        f"pillow/{ENCODING_VERSION} tables={tables_fingerprint()} avif={avif_speed} png={png_compress_level}"
        f" auto={auto_quality_target:g} Pillow={PIL.__version__} libvips={libvips_version()}"
    )


def libvips_version() -> str:
    """libvips's version: it writes textures' JPEGs (with its mozjpeg) whichever engine reads the image."""
    return ".".join(str(pyvips.version(part)) for part in range(3))
