"""Distinct photos for the kernel benchmarks: shifted, flipped, colour-tweaked copies of the corpus photo."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from bench.workspace import corpus_dir, work_dir

SOURCE = "photo-2725x2225.jpg"
# Bump when the recipe changes, so old variants are not mistaken for new ones.
RECIPE = {"version": 1, "quality": 92, "subsampling": "4:2:0", "max_shift": 48, "max_gain": 0.05}


def source_photo() -> Path:
    return corpus_dir() / SOURCE


def photo_variants(count: int) -> list[Path]:
    """`count` different JPEGs the size of the corpus photo, generated once and reused across runs.

    Each is the photo shifted by up to `max_shift` pixels (mirrored at the edges), flipped for odd
    indices, with per-channel gains within ±`max_gain`, re-encoded at a high quality: every input
    is a different file, so no cache or de-duplication can stand in for work.
    """
    folder = work_dir("images", f"photo-variants-v{RECIPE['version']}")
    recipe_file = folder / "recipe.json"
    if recipe_file.is_file() and json.loads(recipe_file.read_text()) != RECIPE:
        for stale in folder.glob("*.jpg"):
            stale.unlink()
    recipe_file.write_text(json.dumps(RECIPE))
    paths = [folder / f"variant-{index:03d}.jpg" for index in range(count)]
    missing = [(index, path) for index, path in enumerate(paths) if not path.is_file()]
    if missing:
        with Image.open(source_photo()) as photo:
            pixels = np.asarray(photo.convert("RGB"))
        shift = RECIPE["max_shift"]
        padded = np.pad(pixels, ((shift, shift), (shift, shift), (0, 0)), mode="reflect")
        # numpy and Pillow's encoder release the GIL for most of the work: two threads nearly halve the wait.
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda item: _write_variant(padded, pixels.shape, *item), missing))
    return paths


def _write_variant(padded: np.ndarray, shape: tuple[int, ...], index: int, path: Path) -> None:
    height, width = shape[:2]
    rng = np.random.default_rng(index)
    top, left = rng.integers(0, 2 * RECIPE["max_shift"] + 1, size=2)
    gains = 1 + rng.uniform(-RECIPE["max_gain"], RECIPE["max_gain"], size=3).astype(np.float32)
    crop = padded[top : top + height, left : left + width].astype(np.float32) * gains
    if index % 2:
        crop = crop[:, ::-1]
    image = Image.fromarray(np.clip(crop + 0.5, 0, 255).astype(np.uint8), "RGB")
    partial = path.with_suffix(".part")
    image.save(partial, "JPEG", quality=RECIPE["quality"], subsampling=RECIPE["subsampling"])
    partial.rename(path)
