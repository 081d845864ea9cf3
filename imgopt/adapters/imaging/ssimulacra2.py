"""SSIMULACRA2 2.1, libjxl's perceptual metric (tools/ssimulacra2.cc): 100 is identical, 70 high quality, 50 medium.

A port that follows the C++ step by step: sRGB to linear, XYB rescaled to 0..1, six scales halved in
linear RGB (ssimulacra2_planes), SSIM without the luma term and two edge maps per channel, 1- and
4-norms, the published 108 weights and the final polynomial. Only the terms whose weight is not zero
are computed: at full size, where three quarters of the work lies, that is SSIM on Y alone and the
edge maps, so five blurred planes per candidate instead of nine. It matches the step-by-step port
(tests/ssimulacra2_reference.py) to float32 rounding: within 0.005 on photos and textures, 0.02 on
product shots on white. About 0.4 CPU-s for a 6-megapixel source's half, 0.6 for each score, a fifth
of the port's.
"""

import cv2
import numpy as np

from imgopt.adapters.imaging.ssimulacra2_constants import WEIGHTS
from imgopt.adapters.imaging.ssimulacra2_planes import blur, check_candidate, halved, linear_rgb, one_thread, xyb_planes

_SCALES = 6
_C2 = np.float32(0.0009)
# Images with alpha are judged over a dark and a light background, the worse counting (as the C++ tool does).
_BACKGROUNDS = (0.1, 0.9)
_SSIM, _ARTIFACT, _DETAIL_LOST = range(3)
# The rows either side of a band of the finest scale that its blur reaches (9 taps).
_PAD = 4


def _weights(scales: int) -> np.ndarray:
    """(channel, scale, norm, map) weights; with fewer than six scales the C++ tool takes the first ones in order."""
    return WEIGHTS[: 3 * scales * 6].reshape(3, scales, 2, 3)


class _Channel:
    """One plane of the source at one scale, with what every comparison needs of it."""

    def __init__(self, plane: np.ndarray, ssim: bool, precise: bool) -> None:
        self.plane, self.precise = plane, precise
        self.mean = blur(plane, exact=ssim and precise)
        # Edge strength is 1 + |x - mean|; ringing and blurring are the candidate's over it, less one.
        self.deviation = cv2.absdiff(plane, self.mean)
        self.inverse_edge = cv2.divide(1.0, self.deviation + 1)
        self.variance = None
        if ssim:
            self.variance = blur(plane * plane, exact=precise)
            self.variance -= self.mean * self.mean


def _sums(error: np.ndarray, weights: np.ndarray, rows: slice) -> tuple[float, float]:
    """The sums of an error map's `rows` and of their 4th powers (it overwrites the map), each only if weighed."""
    error = error[rows]
    total = cv2.sumElems(error)[0] if weights[0] else 0.0
    if not weights[1]:
        return total, 0.0
    np.square(error, out=error)
    return total, cv2.norm(error, cv2.NORM_L2SQR)


def _compare(reference: _Channel, plane: np.ndarray, weights: np.ndarray, rows: slice) -> list[tuple[float, float]]:
    """The sums of SSIM, ringing and blurring of `plane` against one channel of the source, and of their 4th
    powers, over `rows` (the maps' other rows are margins for the blur); (norm, map) weights."""
    # In place where it can be: at full size every temporary is 24 megabytes.
    ssim = reference.variance is not None
    precise = reference.precise
    mu1, mean = reference.mean, blur(plane, exact=ssim and precise)
    terms = [(0.0, 0.0)] * 3
    if ssim:
        similarity = blur(reference.plane * plane, exact=precise)
        similarity -= mu1 * mean
        similarity *= 2
        similarity += _C2
        luma_term = mu1 - mean
        np.square(luma_term, out=luma_term)
        np.subtract(1, luma_term, out=luma_term)
        similarity *= luma_term
        denominator = blur(plane * plane, exact=precise)
        denominator -= np.square(mean, out=luma_term)
        denominator += reference.variance
        denominator += _C2
        similarity /= denominator
        np.subtract(1, similarity, out=similarity)
        cv2.threshold(similarity, 0, 0, cv2.THRESH_TOZERO, dst=similarity)
        terms[_SSIM] = _sums(similarity, weights[:, _SSIM], rows)
    if weights[:, _ARTIFACT:].any():
        # (1 + |x2 - mean2|) / (1 + |x1 - mean1|) - 1, as (|x2 - mean2| - |x1 - mean1|) / (1 + |x1 - mean1|).
        ratio = cv2.absdiff(plane, mean, dst=mean)
        ratio -= reference.deviation
        ratio *= reference.inverse_edge
        if weights[:, _DETAIL_LOST].any():
            lost = cv2.threshold(ratio, 0, 0, cv2.THRESH_TOZERO_INV)[1]
            terms[_DETAIL_LOST] = _sums(lost, weights[:, _DETAIL_LOST], rows)
        if weights[:, _ARTIFACT].any():
            cv2.threshold(ratio, 0, 0, cv2.THRESH_TOZERO, dst=ratio)
            terms[_ARTIFACT] = _sums(ratio, weights[:, _ARTIFACT], rows)
    return terms


def _pyramid(linear: np.ndarray):
    """Linear RGB at each scale, made one scale at a time (the caller lets each go once used)."""
    for index in range(_scales(linear.shape)):
        if index:
            linear = halved(linear)
        yield linear


def _scales(shape: tuple[int, ...]) -> int:
    """How many scales `_pyramid` makes of a picture of `shape`."""
    height, width = shape[0], shape[1]
    for index in range(_SCALES):
        if min(height, width) < 8:
            return index
        if index:
            height, width = (height + 1) // 2, (width + 1) // 2
    return _SCALES


def bands(height: int, sampled: tuple[int, int] | None) -> list[tuple[slice, slice]]:
    """The pieces the finest scale is compared in: (rows of the picture, rows of the piece that count).

    Without `sampled`, the whole. With `sampled` = (rows, period), bands of `rows` rows spread evenly,
    one per `period`, each with `_PAD` rows more on either side inside the picture: the blur reaches
    `_PAD` rows, so the rows that count are the whole's to the last place, and the terms are means over
    that share of the picture.
    """
    if sampled is None:
        return [(slice(0, height), slice(0, height))]
    rows, period = sampled
    count = max(1, round(height / period))
    if count * rows > height:
        return [(slice(0, height), slice(0, height))]
    step = (height - rows) / max(1, count - 1)
    pieces = []
    for index in range(count):
        start = round(index * step)
        low, high = max(0, start - _PAD), min(height, start + rows + _PAD)
        pieces.append((slice(low, high), slice(start - low, start - low + rows)))
    return pieces


def _score(terms: np.ndarray, weights: np.ndarray) -> float:
    total = float(np.dot(weights.ravel(), np.abs(terms).ravel())) * 0.9562382616834844
    total = 2.326765642916932 * total - 0.020884521182843837 * total**2 + 6.248496625763138e-05 * total**3
    return 100.0 - 10.0 * total**0.6276336467831387 if total > 0 else 100.0


class Ssimulacra2:
    """A source image, ready to be compared with any number of candidates of its size.

    The source's half of the work (its pyramid, means, variances and edge strengths) is done once, here.
    With `sampled` = (rows, period), the finest scale (three quarters of the work) is compared only in
    bands of `rows` rows, one per `period` (`bands`): an estimate of the score, not the score, whose
    error the caller must allow for; the coarser scales are the whole's. Without `precise`, every blur
    sums in float32 (see `blur`): a quarter less CPU, scores within about 0.01 of the precise ones near
    70 (0.07 at 90, where SSIM's variances are small differences of large squares).
    """

    def __init__(self, pixels: np.ndarray, sampled: tuple[int, int] | None = None, precise: bool = True) -> None:
        """`pixels`: 8-bit (height, width, 3) RGB or (height, width, 4) RGBA, as sRGB."""
        one_thread()
        self.shape = pixels.shape[:2]
        self.channels = pixels.shape[-1]
        self._alpha = self.channels == 4
        self._bands = bands(self.shape[0], sampled)
        backgrounds = _BACKGROUNDS if self._alpha else (None,)
        self._weights = _weights(_scales(self.shape))
        needs_ssim = self._weights[..., _SSIM].any(axis=-1)
        self._pyramids = {}
        for background in backgrounds:
            scales = []
            for scale, linear in enumerate(_pyramid(linear_rgb(pixels, background))):
                pieces = self._bands if scale == 0 else [(slice(None), slice(None))]
                ssim = needs_ssim[:, scale]
                planes = [xyb_planes(linear[rows]) for rows, _ in pieces]
                scales.append(
                    [[_Channel(plane, ssim[channel], precise) for channel, plane in enumerate(xyb)] for xyb in planes]
                )
            self._pyramids[background] = scales

    def score(self, pixels: np.ndarray) -> float:
        """The SSIMULACRA2 score of `pixels` (same size, RGB or RGBA) against the source."""
        check_candidate(pixels, self.shape, self._alpha)
        scores = []
        for background, reference in self._pyramids.items():
            blended = background if pixels.shape[-1] == 4 else None
            # (channel, scale, map, norm), as the weights are laid out once the last two are swapped.
            terms = np.zeros((3, len(reference), 3, 2))
            for scale, linear in enumerate(_pyramid(linear_rgb(pixels, blended))):
                pieces = self._bands if scale == 0 else [(slice(None), slice(0, linear.shape[0]))]
                sums = np.zeros((3, 3, 2))
                for (rows, counted), channels in zip(pieces, reference[scale], strict=True):
                    for channel, plane in enumerate(xyb_planes(linear[rows])):
                        weights = self._weights[channel, scale]
                        sums[channel] += _compare(channels[channel], plane, weights, counted)
                size = linear.shape[1] * sum(counted.stop - counted.start for _, counted in pieces)
                # The 1-norm is the mean; the 4-norm the 4th root of the mean of the 4th powers.
                terms[:, scale, :, 0] = sums[..., 0] / size
                terms[:, scale, :, 1] = (sums[..., 1] / size) ** 0.25
            scores.append(_score(terms.transpose(0, 1, 3, 2), self._weights))
        return min(scores)


def ssimulacra2(source: np.ndarray, candidate: np.ndarray) -> float:
    """The SSIMULACRA2 score of `candidate` against `source` (8-bit RGB or RGBA arrays of one size)."""
    return Ssimulacra2(source).score(candidate)
