"""The pictures SSIMULACRA2 compares: linear sRGB, XYB planes, halving, and libjxl's blur, by OpenCV.

Each step is one SIMD pass of OpenCV over the whole picture (a table look-up, a 3x4 colour matrix, a
power, a separable filter) on one thread: numpy's `cbrt` alone cost more than all of them together.
The recursive Gaussian of libjxl (Charalampidis 2016, sigma 1.5) is, in exact arithmetic, a 9-tap
filter with zeros beyond the image's edges: it is applied as that filter, its taps taken from running
the recurrence itself on an impulse, summed in double as scipy's `correlate1d` did (in float32 only
where the score does not feel it).
"""

import functools
import math

import cv2
import numpy as np

from imgopt.adapters.imaging.ssimulacra2_constants import OPSIN_BIAS, OPSIN_MATRIX

# The cube roots of the opsin mix, less those of the bias, mixed into X, Y and B - Y, shifted to about 0..1
# as SSIMULACRA2 2.1 does: X = 7 (L - M) + 0.42, Y = (L + M) / 2 + 0.01, B = S - Y + 0.55.
_CUBE_ROOT_BIAS = float(np.cbrt(OPSIN_BIAS[0]))
_TO_XYB = np.array(
    [[7.0, -7.0, 0.0, 0.42], [0.5, 0.5, 0.0, 0.01 - _CUBE_ROOT_BIAS], [-0.5, -0.5, 1.0, 0.55]], dtype=np.float32
)
_XYB_ROWS = [row[None, :] for row in _TO_XYB]
_TO_OPSIN = np.hstack([OPSIN_MATRIX, OPSIN_BIAS[:, None]]).astype(np.float32)


@functools.cache
def one_thread() -> None:
    """OpenCV on the calling thread only, process-wide: the worker runs about an image per core."""
    cv2.setNumThreads(1)


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
    # The response is symmetric to float32 precision; made exactly so.
    return (taps + taps[::-1]) * np.float32(0.5)


def check_candidate(pixels: np.ndarray, shape: tuple[int, ...], alpha: bool) -> None:
    """Refuse a candidate that cannot be compared with a source of `shape` (with alpha or not)."""
    if pixels.shape[:2] != shape:
        raise ValueError(f"SSIMULACRA2 needs images of one size, got {shape} and {pixels.shape[:2]}")
    if pixels.shape[-1] == 4 and not alpha:
        raise ValueError("the candidate has alpha and the source has none")


def blur(planes: np.ndarray, exact: bool = True) -> np.ndarray:
    """libjxl's FastGaussian (sigma 1.5) of each plane of a (..., height, width) float32 array; zeros outside.

    Summed in double, as scipy's `correlate1d` did, unless not `exact`: float32 sums, a third cheaper,
    are off by a few units in the last place, which moves SSIM's variances (small differences of large
    blurred squares) by up to 0.07 in score, but not the edge maps.
    """
    taps = gaussian_taps().astype(np.float64 if exact else np.float32)
    depth = cv2.CV_64F if exact else cv2.CV_32F
    flat = np.ascontiguousarray(planes, dtype=np.float32).reshape(-1, *planes.shape[-2:])
    out = np.empty_like(flat)
    for plane, blurred in zip(flat, out, strict=True):
        if exact:
            blurred[...] = cv2.sepFilter2D(plane, depth, taps, taps, borderType=cv2.BORDER_CONSTANT)
        else:
            cv2.sepFilter2D(plane, depth, taps, taps, dst=blurred, borderType=cv2.BORDER_CONSTANT)
    return out.reshape(planes.shape)


def linear_rgb(pixels: np.ndarray, background: float | None = None) -> np.ndarray:
    """8-bit RGB(A) pixels (height, width, 3 or 4) as linear sRGB (height, width, 3) float32, alpha blended."""
    linear = cv2.LUT(np.ascontiguousarray(pixels[..., :3]), _srgb_to_linear_table())
    if background is None:
        return linear
    alpha = pixels[..., 3:].astype(np.float32) / 255
    return linear * alpha + (1 - alpha) * np.float32(background)


def halved(linear: np.ndarray) -> np.ndarray:
    """(height, width, 3) at half size: means of 2x2 blocks, the last row and column repeated if odd."""
    height, width = linear.shape[:2]
    if height % 2 or width % 2:
        linear = cv2.copyMakeBorder(linear, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
    size = ((width + 1) // 2, (height + 1) // 2)
    return cv2.resize(linear, size, interpolation=cv2.INTER_AREA)


def xyb_planes(linear: np.ndarray) -> np.ndarray:
    """Linear sRGB (height, width, 3) as libjxl's XYB scaled as SSIMULACRA2 2.1 does: planes (3, height, width).

    Linear values are never negative and the opsin matrix is positive, so the mix stays above the bias:
    its cube root needs no clamp.
    """
    mixed = cv2.transform(linear, _TO_OPSIN)
    cv2.pow(mixed, 1 / 3, dst=mixed)
    # A row of the matrix at a time: each plane comes out on its own, without copying it out of the pixels.
    planes = np.empty((3, *linear.shape[:2]), dtype=np.float32)
    for plane, row in zip(planes, _XYB_ROWS, strict=True):
        cv2.transform(mixed, row, dst=plane)
    return planes
