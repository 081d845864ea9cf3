"""A broad set of JPEGs drawn here, by category, so tuning is judged on more than the one corpus photo.

Every image is made from a fixed seed (and, where it is a photo, from the corpus photo), written once
under bench/.work and reused: textures, product shots on white, high-ISO noise, night scenes, screenshots
of text, the photo re-encoded at qualities 70 to 98, and the photo at sizes from 800 to 6000 pixels.
Sources are JPEGs, as catalogue photos are, so every subject does the same job on them.
"""

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.images import source_photo
from bench.workspace import work_dir

# Bump when a drawing changes, so old files are not mistaken for new ones.
VERSION = 1
SOURCE_QUALITY = 95


@dataclass(frozen=True)
class Varied:
    category: str
    name: str
    draw: Callable[[np.random.Generator], Image.Image]
    quality: int = SOURCE_QUALITY


def varied_images(quick: bool) -> list[tuple[str, Path]]:
    """(category, path) of each image, drawn on first use; --quick: one small image of a few categories."""
    folder = work_dir("images", f"varied-v{VERSION}{'-quick' if quick else ''}")
    recipes = _QUICK if quick else _FULL
    (folder / "recipe.json").write_text(json.dumps([(item.category, item.name, item.quality) for item in recipes]))
    paths = [folder / f"{item.category}-{item.name}.jpg" for item in recipes]
    missing = [(seed, item, path) for seed, (item, path) in enumerate(zip(recipes, paths, strict=True))]
    missing = [entry for entry in missing if not entry[2].is_file()]
    # numpy and Pillow's encoder release the GIL for most of the work: two threads nearly halve the wait.
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda entry: _write(*entry), missing))
    return [(item.category, path) for item, path in zip(recipes, paths, strict=True)]


def _write(seed: int, item: Varied, path: Path) -> None:
    image = item.draw(np.random.default_rng(seed)).convert("RGB")
    partial = path.with_suffix(".part")
    subsampling = "4:4:4" if item.quality >= 90 else "4:2:0"
    image.save(partial, "JPEG", quality=item.quality, subsampling=subsampling)
    partial.rename(path)


def _photo() -> np.ndarray:
    with Image.open(source_photo()) as photo:
        return np.asarray(photo.convert("RGB"), dtype=np.float32)


def _image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8), "RGB")


def _sized(width: int, height: int) -> Callable[[np.random.Generator], Image.Image]:
    """The photo at another size: smaller by Lanczos, larger by mirroring it out (detail as dense as a camera's)."""

    def draw(rng: np.random.Generator) -> Image.Image:
        pixels = _photo()
        scale = min(1.0, max(width / pixels.shape[1], height / pixels.shape[0]))
        if scale < 1:
            size = (round(pixels.shape[1] * scale), round(pixels.shape[0] * scale))
            pixels = np.asarray(_image(pixels).resize(size, Image.Resampling.LANCZOS), dtype=np.float32)
        pad = ((0, max(0, height - pixels.shape[0])), (0, max(0, width - pixels.shape[1])), (0, 0))
        pixels = np.pad(pixels, pad, mode="symmetric")
        top = (pixels.shape[0] - height) // 2
        left = (pixels.shape[1] - width) // 2
        return _image(pixels[top : top + height, left : left + width])

    return draw


def _texture(width: int, height: int, palette: tuple[tuple[int, int, int], tuple[int, int, int]]):
    """Fractal noise (octaves of smoothly enlarged random grids) between two colours, with a weave on top."""

    def draw(rng: np.random.Generator) -> Image.Image:
        field = np.zeros((height, width), dtype=np.float32)
        for octave in range(1, 8):
            cells = 2**octave
            grid = rng.random((cells + 1, cells + 1), dtype=np.float32)
            layer = Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC)
            field += np.asarray(layer) / 1.6**octave
        field = (field - field.min()) / (field.max() - field.min())
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        weave = 0.08 * np.sin(x * 0.9) * np.sin(y * 0.9)
        mix = np.clip(field + weave, 0, 1)[..., None]
        dark, light = (np.array(colour, dtype=np.float32) for colour in palette)
        return _image(dark + (light - dark) * mix + rng.normal(0, 2, (height, width, 3)).astype(np.float32))

    return draw


def _product(size: int, shapes: int):
    """Objects on a white sweep: shaded shapes, soft shadows under them, a little sensor noise."""

    def draw(rng: np.random.Generator) -> Image.Image:
        canvas = Image.new("RGB", (size, size), "white")
        for index in range(shapes):
            left = int(size * (0.15 + 0.7 * index / max(1, shapes)))
            width, height = size // (shapes + 2), int(size * rng.uniform(0.3, 0.6))
            top = int(size * 0.8) - height
            shadow = Image.new("L", (size, size), 0)
            floor = top + height
            ImageDraw.Draw(shadow).ellipse((left - 20, floor - 20, left + width + 40, floor + 25), fill=90)
            canvas.paste((140, 140, 140), mask=shadow.filter(ImageFilter.GaussianBlur(size // 60)))
            shade = np.sin(np.linspace(0.2, np.pi - 0.2, width)) ** 0.7
            colour = rng.uniform(0.2, 1.0, 3)
            row = (40 + 200 * shade[:, None] * colour[None, :]).clip(0, 255)
            body = Image.fromarray(np.repeat(row[None], height, axis=0).astype(np.uint8))
            mask = Image.new("L", (width, height), 0)
            ImageDraw.Draw(mask).rounded_rectangle((0, 0, width - 1, height - 1), radius=width // 5, fill=255)
            canvas.paste(body, (left, top), mask)
        noisy = np.asarray(canvas, dtype=np.float32) + rng.normal(0, 1.2, (size, size, 3)).astype(np.float32)
        return _image(noisy)

    return draw


def _noisy(sigma: float):
    """The photo as a small sensor at high ISO would take it: grain in every channel, a little in luma alone."""

    def draw(rng: np.random.Generator) -> Image.Image:
        pixels = _photo()[200:1700, 300:2300]
        grain = rng.normal(0, sigma, pixels.shape).astype(np.float32)
        grain += rng.normal(0, sigma / 2, pixels.shape[:2] + (1,)).astype(np.float32)
        return _image(pixels + grain)

    return draw


def _night(brightness: float):
    """The photo underexposed in linear light, with grain and a few bright lamps."""

    def draw(rng: np.random.Generator) -> Image.Image:
        pixels = _photo()[100:2100, 200:2600]
        linear = (pixels / 255) ** 2.2 * brightness
        height, width = linear.shape[:2]
        for _ in range(12):
            y, x = rng.integers(0, height), rng.integers(0, width)
            yy, xx = np.ogrid[-y : height - y, -x : width - x]
            linear += np.exp(-(yy * yy + xx * xx) / (2 * rng.uniform(3, 12) ** 2))[..., None] * [1.0, 0.8, 0.5]
        encoded = np.clip(linear, 0, 1) ** (1 / 2.2) * 255
        return _image(encoded + rng.normal(0, 3, encoded.shape).astype(np.float32))

    return draw


def _screenshot(width: int, height: int, dark: bool):
    """A page of text: a title bar, headings, paragraphs and a table, as a browser window shows them."""

    def draw(rng: np.random.Generator) -> Image.Image:
        background, ink, accent = ((30, 30, 34), (220, 220, 220), (90, 160, 255)) if dark else (
            (255, 255, 255), (30, 30, 30), (20, 90, 200))  # fmt: skip
        canvas = Image.new("RGB", (width, height), background)
        page = ImageDraw.Draw(canvas)
        page.rectangle((0, 0, width, 56), fill=accent)
        page.text((24, 12), "Catalogue · Spring collection", fill="white", font=ImageFont.load_default(28))
        words = ["product", "cotton", "shipping", "size", "colour", "price", "in", "stock", "the", "a", "with"]
        top = 90
        while top < height - 60:
            if rng.random() < 0.15:
                page.text((40, top), "Section heading", fill=accent, font=ImageFont.load_default(30))
                top += 50
                continue
            line = " ".join(rng.choice(words, size=int(rng.integers(8, 16))))
            page.text((40, top), line.capitalize() + ".", fill=ink, font=ImageFont.load_default(18))
            if rng.random() < 0.1:
                page.rectangle((width * 0.6, top, width - 40, top + 22), outline=ink)
            top += 26
        return canvas

    return draw


def _requality(quality: int) -> Varied:
    return Varied("requality", f"q{quality}", _sized(2000, 1633), quality)


_FULL = [
    Varied("texture", "stone-2000", _texture(2000, 1500, ((60, 55, 50), (200, 190, 170)))),
    Varied("texture", "fabric-3000", _texture(3000, 2000, ((20, 40, 90), (120, 160, 220)))),
    Varied("product", "one-1200", _product(1200, 1)),
    Varied("product", "three-3000", _product(3000, 3)),
    Varied("noise", "iso-sigma8", _noisy(8)),
    Varied("noise", "iso-sigma16", _noisy(16)),
    Varied("night", "dusk", _night(0.25)),
    Varied("night", "night", _night(0.06)),
    Varied("text", "light-1440", _screenshot(1440, 900, dark=False)),
    Varied("text", "dark-2560", _screenshot(2560, 1600, dark=True)),
    _requality(70),
    _requality(80),
    _requality(90),
    _requality(98),
    Varied("size", "800", _sized(800, 653)),
    Varied("size", "1600", _sized(1600, 1306)),
    Varied("size", "4000", _sized(4000, 3000)),
    Varied("size", "6000", _sized(6000, 4000)),
]
_QUICK = [
    Varied("texture", "stone-480", _texture(480, 360, ((60, 55, 50), (200, 190, 170)))),
    Varied("product", "one-400", _product(400, 1)),
    Varied("text", "light-640", _screenshot(640, 400, dark=False)),
]
