"""Sample product photos, drawn on the spot so nothing is downloaded, and the CSV that lists them."""

import csv
import io
import random

from PIL import Image, ImageDraw, ImageFilter

from imgopt.domain.product_csv import HEADER


def photo(width: int, height: int, rng: random.Random) -> bytes:
    """A photo-like JPEG: soft light, a few blurred objects and sensor noise, saved at camera quality."""
    base = Image.linear_gradient("L").resize((width, height)).rotate(rng.uniform(0, 360), expand=False)
    tint = tuple(rng.randint(60, 220) for _ in range(3))
    image = Image.merge("RGB", [base.point(lambda v, t=t: (v * t) // 255 + 20) for t in tint])
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(4, 9)):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randint(width // 12, width // 4)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randint(0, 255) for _ in range(3)))
    image = image.filter(ImageFilter.GaussianBlur(radius=width / 120))
    noise = Image.effect_noise((width, height), rng.uniform(18, 30)).convert("RGB")
    image = Image.blend(image, noise, 0.12)
    output = io.BytesIO()
    image.save(output, "JPEG", quality=92)
    return output.getvalue()


def graphic(width: int, height: int, rng: random.Random) -> bytes:
    """A logo-like PNG with transparency, the other kind of picture shops upload."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 6)):
        box = sorted(rng.sample(range(width), 2)) + sorted(rng.sample(range(height), 2))
        color = (*(rng.randint(0, 255) for _ in range(3)), rng.randint(160, 255))
        draw.rounded_rectangle((box[0], box[2], box[1], box[3]), radius=width // 20, fill=color)
    output = io.BytesIO()
    image.save(output, "PNG")
    return output.getvalue()


def sample_images(count: int, seed: int = 2024) -> dict[str, tuple[bytes, str]]:
    """`count` distinct images by path: mostly JPEG photos, every sixth a PNG graphic."""
    rng = random.Random(seed)
    images = {}
    for number in range(1, count + 1):
        if number % 6 == 0:
            images[f"/images/graphic-{number}.png"] = (graphic(800, 800, rng), "image/png")
        else:
            width = rng.choice((1200, 1600, 2000))
            images[f"/images/photo-{number}.jpg"] = (photo(width, width * 3 // 4, rng), "image/jpeg")
    return images


def sample_csv(base_url: str, paths: list[str], missing: str = "/images/discontinued.jpg") -> bytes:
    """A CSV in the original's format: products with one to three photos, and one photo that is missing."""
    rng = random.Random(len(paths))
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(HEADER)
    remaining, serial = list(paths), 0
    while remaining:
        serial += 1
        take = min(rng.randint(1, 3), len(remaining))
        urls = [base_url + path for path in remaining[:take]]
        remaining = remaining[take:]
        if serial == 2:
            urls.append(base_url + missing)
        writer.writerow([serial, f"Sample product {serial}", ", ".join(urls)])
    return output.getvalue().encode()
