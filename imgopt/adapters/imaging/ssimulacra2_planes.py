"""The pictures SSIMULACRA2 compares: linear sRGB planes, XYB, halving, and libjxl's blur.

The recursive Gaussian of libjxl (Charalampidis 2016, sigma 1.5) is, in exact arithmetic, a 9-tap
filter with zeros beyond the image's edges: it is applied here as that filter, its taps taken from
running the recurrence itself on an impulse, summed in float64 and stored in float32 (the arithmetic
of scipy's `correlate1d(mode="constant")`, which it replaces bit for bit).
"""

import functools
import math

import numpy as np

from imgopt.adapters.imaging.ssimulacra2_constants import OPSIN_BIAS, OPSIN_MATRIX


@functools.cache
def _srgb_to_linear_table() -> np.ndarray:
    values = np.arange(256, dtype=np.float64) / 255
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4).astype(np.float32)


@functools.cache
def gaussian_taps(sigma: float = 1.5) -> np.ndarray:
    """The impulse response of libjxl's CreateRecursiveGaussian(sigma), run through its recurrence."""
    radius = round(3.2795 * sigma + 0.2546)
    omega = [k * math.pi / (2 * radius) for k in (1, 3, 5)]
    p = [1 / math.tan(omega[0] / 2), -1 / math.tan(omega[1] / 2), 1 / math.tan(omega[2] / 2)]
    r = [p[0] ** 2 / math.sin(omega[0]), -(p[1] ** 2) / math.sin(omega[1]), p[2] ** 2 / math.sin(omega[2])]
    rho = [math.exp(-0.5 * sigma * sigma * w * w) / radius for w in omega]
    d13, d35, d51 = p[0] * r[1] - r[0] * p[1], p[1] * r[2] - r[1] * p[2], p[2] * r[0] - r[2] * p[0]
    zeta15, zeta35 = d35 / d13, d51 / d13
    system = np.array([p, r, [zeta15, zeta35, 1.0]])
    beta = np.linalg.solve(system, [1.0, radius * radius - sigma * sigma, zeta15 * rho[0] + zeta35 * rho[1] + rho[2]])
    length = 4 * radius + 1
    impulse = np.zeros(length)
    impulse[2 * radius] = 1.0
    response = np.zeros(length)
    for k in range(3):
        n2, d1 = -beta[k] * math.cos(omega[k] * (radius + 1)), -2 * math.cos(omega[k])
        previous = before = 0.0
        for n in range(-radius + 1, length):
            left, right = n - radius - 1, n + radius - 1
            total = (impulse[left] if left >= 0 else 0.0) + (impulse[right] if right < length else 0.0)
            previous, before = n2 * total - d1 * previous - before, previous
            if n >= 0:
                response[n] += previous
    taps = response[np.abs(response) > 1e-12].astype(np.float32)
    # The response is symmetric to float32 precision; made exactly so, as `blur` sums mirrored pairs.
    return (taps + taps[::-1]) * np.float32(0.5)


# Elements of float64 sums held at once: a band of rows whose two sums stay in the CPU's cache.
_BAND_ELEMENTS = 1 << 16


def _correlate(planes: np.ndarray, taps: np.ndarray, axis: int) -> np.ndarray:
    """`planes` correlated with symmetric `taps` along axis -1 or -2, zeros beyond the edges, a band of rows at a time.

    Each output is centre * tap + the sum of (left + right) * tap outwards, in float64, then float32.
    """
    radius = len(taps) // 2
    weights = taps.astype(np.float64)
    padding = [(0, 0)] * planes.ndim
    padding[axis] = (radius, radius)
    padded = np.pad(planes, padding)
    height, width = planes.shape[-2:]
    out = np.empty(planes.shape, dtype=np.float32)
    rows = max(1, _BAND_ELEMENTS // max(1, planes.size // max(1, height)))

    def shifted(offset: int, top: int, bottom: int) -> np.ndarray:
        if axis == -1:
            return padded[..., top:bottom, offset : offset + width]
        return padded[..., top + offset : bottom + offset, :]

    for top in range(0, height, rows):
        bottom = min(top + rows, height)
        total = np.multiply(shifted(radius, top, bottom), weights[radius], dtype=np.float64)
        pair = np.empty_like(total)
        for step in range(1, radius + 1):
            np.add(shifted(radius - step, top, bottom), shifted(radius + step, top, bottom), out=pair, dtype=np.float64)
            pair *= weights[radius + step]
            total += pair
        out[..., top:bottom, :] = total
    return out


def blur(planes: np.ndarray) -> np.ndarray:
    """libjxl's FastGaussian (sigma 1.5) of each plane of a (..., height, width) float32 array; zeros outside."""
    taps = gaussian_taps()
    return _correlate(_correlate(planes, taps, axis=-1), taps, axis=-2)


def linear_planes(pixels: np.ndarray, background: float | None = None) -> np.ndarray:
    """8-bit RGB(A) pixels (height, width, 3 or 4) as linear sRGB planes (3, height, width), alpha blended."""
    linear = _srgb_to_linear_table()[np.moveaxis(pixels[..., :3], -1, 0)]
    if background is None:
        return linear
    alpha = pixels[..., 3].astype(np.float32) / 255
    return linear * alpha + (1 - alpha) * np.float32(background)


def halved(linear: np.ndarray) -> np.ndarray:
    """Planes (..., height, width) at half size: means of 2x2 blocks, the last row and column repeated if odd."""
    height, width = linear.shape[1:]
    padded = np.pad(linear, ((0, 0), (0, height % 2), (0, width % 2)), mode="edge")
    return (padded[:, 0::2, 0::2] + padded[:, 0::2, 1::2] + padded[:, 1::2, 0::2] + padded[:, 1::2, 1::2]) * 0.25


def positive_xyb(linear: np.ndarray) -> np.ndarray:
    """Linear sRGB planes in libjxl's XYB, shifted and scaled to about 0..1 as SSIMULACRA2 2.1 does (B as B - Y)."""
    mixed = np.tensordot(OPSIN_MATRIX, linear, axes=1) + OPSIN_BIAS[:, None, None]
    np.maximum(mixed, 0, out=mixed)
    mixed = np.cbrt(mixed) - np.cbrt(OPSIN_BIAS)[:, None, None]
    x, y = (mixed[0] - mixed[1]) * 0.5, (mixed[0] + mixed[1]) * 0.5
    return np.stack([x * 14 + 0.42, y + 0.01, (mixed[2] - y) + 0.55])
