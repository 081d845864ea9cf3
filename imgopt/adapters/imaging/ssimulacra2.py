"""SSIMULACRA2 2.1, libjxl's perceptual metric (tools/ssimulacra2.cc): 100 is identical, 70 high quality, 50 medium.

A port in numpy/scipy that follows the C++ step by step: sRGB to linear, XYB rescaled to 0..1,
six scales halved in linear RGB (edge pixels repeated), SSIM without the luma term and two edge
maps per channel, 1- and 4-norms, the published 108 weights and the final polynomial. The
recursive Gaussian of the C++ (Charalampidis 2016, sigma 1.5) is, in exact arithmetic, a 9-tap
filter with zeros beyond the edges; it is applied here as that filter, in float32 as the C++ does.
"""

import math

import numpy as np
from scipy.ndimage import correlate1d

from imgopt.adapters.imaging.ssimulacra2_constants import OPSIN_BIAS, OPSIN_MATRIX, WEIGHTS

_SCALES = 6
_C2 = np.float32(0.0009)
# Images with alpha are judged over a dark and a light background, the worse counting (as the C++ tool does).
_BACKGROUNDS = (0.1, 0.9)


def _srgb_to_linear_table() -> np.ndarray:
    values = np.arange(256, dtype=np.float64) / 255
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _gaussian_taps(sigma: float = 1.5) -> np.ndarray:
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
    taps = response[np.abs(response) > 1e-12]
    return taps.astype(np.float32)


_LINEAR = _srgb_to_linear_table()
_TAPS = _gaussian_taps()


def blur(planes: np.ndarray) -> np.ndarray:
    """libjxl's FastGaussian (sigma 1.5) of each plane of a (..., height, width) float32 array; zeros outside."""
    across = correlate1d(planes, _TAPS, axis=-1, mode="constant")
    return correlate1d(across, _TAPS, axis=-2, mode="constant")


def linear_planes(pixels: np.ndarray, background: float | None = None) -> np.ndarray:
    """8-bit RGB(A) pixels (height, width, 3 or 4) as linear sRGB planes (3, height, width), alpha blended."""
    linear = _LINEAR[np.moveaxis(pixels[..., :3], -1, 0)]
    if background is None:
        return linear
    alpha = pixels[..., 3].astype(np.float32) / 255
    return linear * alpha + (1 - alpha) * np.float32(background)


def halved(linear: np.ndarray) -> np.ndarray:
    """Planes (..., height, width) at half size: means of 2x2 blocks, the last row and column repeated if odd."""
    height, width = linear.shape[1:]
    padded = np.pad(linear, ((0, 0), (0, height % 2), (0, width % 2)), mode="edge")
    return (padded[:, 0::2, 0::2] + padded[:, 0::2, 1::2] + padded[:, 1::2, 0::2] + padded[:, 1::2, 1::2]) * 0.25


def _positive_xyb(linear: np.ndarray) -> np.ndarray:
    mixed = np.tensordot(OPSIN_MATRIX, linear, axes=1) + OPSIN_BIAS[:, None, None]
    np.maximum(mixed, 0, out=mixed)
    mixed = np.cbrt(mixed) - np.cbrt(OPSIN_BIAS)[:, None, None]
    x, y = (mixed[0] - mixed[1]) * 0.5, (mixed[0] + mixed[1]) * 0.5
    return np.stack([x * 14 + 0.42, y + 0.01, (mixed[2] - y) + 0.55])


class _Scale:
    """One scale of an image: its XYB planes, their local means and variances, and edge strength (1 + |x - mean|)."""

    def __init__(self, xyb: np.ndarray) -> None:
        self.xyb = xyb
        self.mean = blur(xyb)
        self.variance = blur(xyb * xyb)
        self.variance -= self.mean * self.mean
        self.edge = xyb - self.mean
        np.abs(self.edge, out=self.edge)
        self.edge += 1


def _pyramid(linear: np.ndarray) -> list[_Scale]:
    scales = []
    for index in range(_SCALES):
        if min(linear.shape[1:]) < 8:
            break
        if index:
            linear = halved(linear)
        scales.append(_Scale(_positive_xyb(linear)))
    return scales


def _norms(error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per plane, the mean (1-norm) and the 4-norm of an error map (which it overwrites)."""
    flat = error.reshape(3, -1)
    means = flat.mean(axis=1, dtype=np.float64)
    np.square(flat, out=flat)
    np.square(flat, out=flat)
    return means, flat.mean(axis=1, dtype=np.float64) ** 0.25


def _compare(reference: _Scale, distorted: _Scale) -> tuple[tuple, tuple, tuple]:
    # In place where it can be: at full size every temporary is tens of megabytes.
    mu1, mu2 = reference.mean, distorted.mean
    similarity = blur(reference.xyb * distorted.xyb)
    similarity -= mu1 * mu2
    similarity *= 2
    similarity += _C2
    luma_term = mu1 - mu2
    np.square(luma_term, out=luma_term)
    np.subtract(1, luma_term, out=luma_term)
    similarity *= luma_term
    denominator = np.add(reference.variance, distorted.variance, out=luma_term)
    denominator += _C2
    similarity /= denominator
    np.subtract(1, similarity, out=similarity)
    ssim = _norms(np.maximum(similarity, 0, out=similarity))
    ratio = np.divide(distorted.edge, reference.edge, out=similarity)
    ratio -= 1
    artifact = _norms(np.maximum(ratio, 0, out=denominator))
    np.negative(ratio, out=ratio)
    return ssim, artifact, _norms(np.maximum(ratio, 0, out=ratio))


def _score(comparisons: list[tuple[tuple, tuple, tuple]]) -> float:
    terms = []
    for channel in range(3):
        for ssim, artifact, detail_lost in comparisons:
            for norm in range(2):
                terms += [ssim[norm][channel], artifact[norm][channel], detail_lost[norm][channel]]
    total = float(np.dot(WEIGHTS[: len(terms)], np.abs(terms))) * 0.9562382616834844
    total = 2.326765642916932 * total - 0.020884521182843837 * total**2 + 6.248496625763138e-05 * total**3
    return 100.0 - 10.0 * total**0.6276336467831387 if total > 0 else 100.0


class Ssimulacra2:
    """A source image, ready to be compared with any number of candidates of its size.

    The source's half of the work (its pyramid, means and variances) is done once, here.
    """

    def __init__(self, pixels: np.ndarray) -> None:
        """`pixels`: 8-bit (height, width, 3) RGB or (height, width, 4) RGBA, as sRGB."""
        self.shape = pixels.shape[:2]
        self.channels = pixels.shape[-1]
        self._alpha = self.channels == 4
        backgrounds = _BACKGROUNDS if self._alpha else (None,)
        self._pyramids = {bg: _pyramid(linear_planes(pixels, bg)) for bg in backgrounds}

    def score(self, pixels: np.ndarray) -> float:
        """The SSIMULACRA2 score of `pixels` (same size, RGB or RGBA) against the source."""
        if pixels.shape[:2] != self.shape:
            raise ValueError(f"SSIMULACRA2 needs images of one size, got {self.shape} and {pixels.shape[:2]}")
        if pixels.shape[-1] == 4 and not self._alpha:
            raise ValueError("the candidate has alpha and the source has none")
        scores = []
        for background, reference in self._pyramids.items():
            blended = background if pixels.shape[-1] == 4 else None
            distorted = _pyramid(linear_planes(pixels, blended))
            scores.append(_score([_compare(one, other) for one, other in zip(reference, distorted, strict=True)]))
        return min(scores)


def ssimulacra2(source: np.ndarray, candidate: np.ndarray) -> float:
    """The SSIMULACRA2 score of `candidate` against `source` (8-bit RGB or RGBA arrays of one size)."""
    return Ssimulacra2(source).score(candidate)
