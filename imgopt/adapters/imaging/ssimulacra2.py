"""SSIMULACRA2 2.1, libjxl's perceptual metric (tools/ssimulacra2.cc): 100 is identical, 70 high quality, 50 medium.

A port in numpy that follows the C++ step by step: sRGB to linear, XYB rescaled to 0..1,
six scales halved in linear RGB (ssimulacra2_planes), SSIM without the luma term and two edge maps
per channel, 1- and 4-norms, the published 108 weights and the final polynomial.
"""

import numpy as np

from imgopt.adapters.imaging.ssimulacra2_constants import WEIGHTS
from imgopt.adapters.imaging.ssimulacra2_planes import blur, halved, linear_planes, positive_xyb

_SCALES = 6
_C2 = np.float32(0.0009)
# Images with alpha are judged over a dark and a light background, the worse counting (as the C++ tool does).
_BACKGROUNDS = (0.1, 0.9)


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
