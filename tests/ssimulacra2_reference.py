"""The SSIMULACRA2 port as it was at c5de068, kept whole as the reference the fast scorer must match.

numpy and libvips step by step after libjxl's tools/ssimulacra2.cc: sRGB to linear, XYB rescaled to 0..1,
six scales halved in linear RGB, SSIM without the luma term and two edge maps per channel, 1- and 4-norms.
Its blur is bit for bit scipy's `correlate1d(mode="constant")` with libjxl's taps; it scores every term,
including those the published weights multiply by zero. On a 6-megapixel photo, 2.6 CPU-seconds for the
source's half and 3.6 for each comparison (2026-12-07).
"""

import functools

import numpy as np
import pyvips

from imgopt.adapters.imaging.ssimulacra2_constants import OPSIN_BIAS, OPSIN_MATRIX, WEIGHTS

# The filter's taps are a derivation of libjxl's constants, not the arithmetic under test: shared with the scorer.
from imgopt.adapters.imaging.ssimulacra2_planes import check_candidate, gaussian_taps

_SCALES = 6
_C2 = np.float32(0.0009)
_BACKGROUNDS = (0.1, 0.9)


@functools.cache
def _srgb_to_linear_table() -> np.ndarray:
    values = np.arange(256, dtype=np.float64) / 255
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4).astype(np.float32)


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
        scales.append(_Scale(positive_xyb(linear)))
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
        check_candidate(pixels, self.shape, self._alpha)
        scores = []
        for background, reference in self._pyramids.items():
            blended = background if pixels.shape[-1] == 4 else None
            distorted = _pyramid(linear_planes(pixels, blended))
            scores.append(_score([_compare(one, other) for one, other in zip(reference, distorted, strict=True)]))
        return min(scores)


def ssimulacra2(source: np.ndarray, candidate: np.ndarray) -> float:
    """The SSIMULACRA2 score of `candidate` against `source` (8-bit RGB or RGBA arrays of one size)."""
    return Ssimulacra2(source).score(candidate)
