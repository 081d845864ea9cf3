"""Product-like test shots drawn here: a studio object on white, a label with text, a sweep of gradients."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.workspace import work_dir

SIZE = 1600
# Bump when a drawing changes, so old files are not mistaken for new ones.
VERSION = 1


def product_shots() -> list[Path]:
    """Lossless PNGs of the three shots, drawn once and reused across runs."""
    folder = work_dir("images", f"shots-v{VERSION}")
    paths = []
    for name, draw in (("studio", _studio), ("label", _label), ("sweep", _sweep)):
        path = folder / f"{name}.png"
        if not path.is_file():
            draw(np.random.default_rng(len(paths))).save(path, compress_level=1)
        paths.append(path)
    return paths


def _grain(image: Image.Image, rng: np.random.Generator, amount: float) -> Image.Image:
    """Sensor noise, so the shots are photographs of things rather than vector art."""
    pixels = np.asarray(image, dtype=np.float32)
    noisy = pixels + rng.normal(0, amount, pixels.shape).astype(np.float32)
    return Image.fromarray(np.clip(noisy + 0.5, 0, 255).astype(np.uint8))


def _shaded_bottle(size: int) -> Image.Image:
    """A rounded object lit from the left: a horizontal shading under a rounded-rectangle mask."""
    width, height = size // 3, size * 3 // 5
    shade = np.linspace(0, np.pi, width)
    row = (60 + 150 * np.sin(shade) ** 0.6 + 40 * np.exp(-((shade - 0.9) ** 2) * 20)).clip(0, 255)
    body = np.stack([row * 0.35, row * 0.55, row * 0.95], axis=-1)
    pixels = np.repeat(body[None], height, axis=0).astype(np.uint8)
    bottle = Image.fromarray(pixels).convert("RGBA")
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, width - 1, height - 1), radius=width // 4, fill=255)
    bottle.putalpha(mask)
    return bottle


def _studio(rng: np.random.Generator) -> Image.Image:
    canvas = Image.new("RGB", (SIZE, SIZE), "white")
    shadow = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(shadow).ellipse((SIZE // 3, SIZE * 3 // 4, SIZE * 2 // 3 + 80, SIZE * 4 // 5 + 10), fill=110)
    canvas.paste((120, 120, 120), mask=shadow.filter(ImageFilter.GaussianBlur(40)))
    bottle = _shaded_bottle(SIZE)
    canvas.paste(bottle, (SIZE // 3, SIZE // 5), bottle)
    return _grain(canvas, rng, 1.5)


def _label(rng: np.random.Generator) -> Image.Image:
    canvas = _studio(rng)
    draw = ImageDraw.Draw(canvas)
    left, top = SIZE // 3 + 40, SIZE * 2 // 5
    draw.rectangle((left, top, left + SIZE // 3 - 80, top + 360), fill=(245, 240, 225))
    for line, (text, size) in enumerate((("AQUA", 110), ("PURE SPRING WATER", 34), ("500 ml · 16.9 fl oz", 30))):
        font = ImageFont.load_default(size)
        draw.text((left + 30, top + 30 + line * 130), text, fill=(20, 40, 90), font=font)
    draw.text((60, SIZE - 120), "SKU 0042-AQ  Made in Example", fill=(90, 90, 90), font=ImageFont.load_default(40))
    return _grain(canvas, rng, 1.0)


def _sweep(rng: np.random.Generator) -> Image.Image:
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    red = 200 + 40 * y - 20 * x
    green = 210 + 30 * y
    blue = 235 - 25 * y + 10 * x
    backdrop = Image.fromarray(np.stack([red, green, blue], axis=-1).clip(0, 255).astype(np.uint8))
    bottle = _shaded_bottle(SIZE)
    backdrop.paste(bottle, (SIZE // 3, SIZE // 5), bottle)
    return _grain(backdrop, rng, 0.8)
