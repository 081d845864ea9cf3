"""The pictures SSIMULACRA2 compares: linear sRGB planes, XYB, halving, and libjxl's blur.

The recursive Gaussian of libjxl (Charalampidis 2016, sigma 1.5) is, in exact arithmetic, a 9-tap
filter with zeros beyond the image's edges: it is applied here as that filter (by libvips), its taps
taken from running the recurrence itself on an impulse, summed in float64 and stored in float32 (the
arithmetic of scipy's `correlate1d(mode="constant")`, which it replaces bit for bit).
"""

import functools
import math

import numpy as np
import pyvips

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


@functools.cache
def _mask() -> pyvips.Image:
    return pyvips.Image.new_from_list([gaussian_taps().tolist()])


def blur(planes: np.ndarray) -> np.ndarray:
    """libjxl's FastGaussian (sigma 1.5) of each plane of a (..., height, width) float32 array; zeros outside.

    libvips's separable convolution in float precision sums in double and stores float32, as scipy's
    `correlate1d` does: the same numbers bit for bit, at about twice numpy's speed. Each plane is
    handed over without a copy and bordered with zeros as wide as the filter's reach.
    """
    height, width = planes.shape[-2:]
    radius = len(gaussian_taps()) // 2
    flat = np.ascontiguousarray(planes, dtype=np.float32).reshape(-1, height, width)
    out = np.empty(flat.shape, dtype=np.float32)
    for index, plane in enumerate(flat):
        image = pyvips.Image.new_from_memory(plane.data, width, height, 1, "float")
        bordered = image.embed(radius, radius, width + 2 * radius, height + 2 * radius, extend="black")
        blurred = bordered.convsep(_mask(), precision="float").crop(radius, radius, width, height)
        out[index] = np.frombuffer(blurred.write_to_memory(), dtype=np.float32).reshape(height, width)
    return out.reshape(planes.shape)


def linear_planes(pixels: np.ndarray, background: float | None = None) -> np.ndarray:
    """8-bit RGB(A) pixels (height, width, 3 or 4) as linear sRGB planes (3, height, width), alpha blended."""
    linear = _srgb_to_linear_table()[np.moveaxis(pixels[..., :3], -1, 0)]
    if background is None:
        return linear
    alpha = pixels[..., 3].astype(np.float32) / 255
    return linear * alpha + (1 - alpha) * np.float32(background)


def halved(linear: np.ndarray) -> np.ndarray:
    """Planes (..., height, width) at half size: means of 2x2 blocks, the last row and column repeated if odd.

    An odd side's last block is summed with its repeated pixels in place, in the order a padded copy
    would sum them: copying a whole full-size image to pad it cost as much as the halving itself.
    """
    height, width = linear.shape[1:]
    rows, columns = height // 2 * 2, width // 2 * 2
    out = np.empty((linear.shape[0], (height + 1) // 2, (width + 1) // 2), dtype=linear.dtype)
    core = out[:, : rows // 2, : columns // 2]
    np.add(linear[:, 0:rows:2, 0:columns:2], linear[:, 0:rows:2, 1:columns:2], out=core)
    core += linear[:, 1:rows:2, 0:columns:2]
    core += linear[:, 1:rows:2, 1:columns:2]
    if width % 2:
        top, bottom = linear[:, 0:rows:2, -1], linear[:, 1:rows:2, -1]
        out[:, : rows // 2, -1] = top + top + bottom + bottom
    if height % 2:
        left, right = linear[:, -1, 0:columns:2], linear[:, -1, 1:columns:2]
        out[:, -1, : columns // 2] = left + right + left + right
    if width % 2 and height % 2:
        corner = linear[:, -1, -1]
        out[:, -1, -1] = corner + corner + corner + corner
    out *= np.float32(0.25)
    return out


def positive_xyb(linear: np.ndarray) -> np.ndarray:
    """Linear sRGB planes in libjxl's XYB, shifted and scaled to about 0..1 as SSIMULACRA2 2.1 does (B as B - Y).

    Plane by plane and in place: at full size every temporary is tens of megabytes.
    """
    red, green, blue = linear
    mixed = np.empty(linear.shape, dtype=np.float32)
    for plane, (to_red, to_green, to_blue) in zip(mixed, OPSIN_MATRIX, strict=True):
        np.multiply(red, to_red, out=plane)
        plane += green * to_green
        plane += blue * to_blue
    # Linear values are never negative and the matrix is positive, so the mix stays above the bias: no clamp.
    mixed += OPSIN_BIAS[:, None, None]
    np.cbrt(mixed, out=mixed)
    mixed -= np.cbrt(OPSIN_BIAS)[:, None, None]
    long, medium, short = mixed
    xyb = np.empty_like(mixed)
    np.subtract(long, medium, out=xyb[0])
    xyb[0] *= np.float32(7)
    xyb[0] += np.float32(0.42)
    np.add(long, medium, out=xyb[1])
    xyb[1] *= np.float32(0.5)
    np.subtract(short, xyb[1], out=xyb[2])
    xyb[2] += np.float32(0.55)
    xyb[1] += np.float32(0.01)
    return xyb
