"""Auto quality: per image, the lowest quality whose encoding still reaches a SSIMULACRA2 target at full size.

The search runs on a sample of the image, not the whole: a 3x3 mosaic of 256-pixel tiles spread
evenly over it, each cut on the 16-pixel grid from the image's corner and placed on that grid. There
JPEG's 8x8 blocks, its 2x2 chroma subsampling and WebP's macroblocks fall as they fall in the whole
image, so each tile is encoded as it is in the whole, block for block; the tiles cover the whole
picture, not just its centre. Still, a sample is not faithful: on photos the mosaic reads 1.0-1.6
above the whole at the same quality, and on a product shot's wide smooth backdrop, whose banding shows
at SSIMULACRA2's coarse scales that a 768-pixel mosaic barely has, up to 16 (71 as a mosaic, 55 whole).
So the mosaic is asked for `PRIOR` more than the target, and the whole image has the last word: its
encoding at the mosaic's quality is scored; when it falls short, the gap it showed is added to what the
mosaic must reach and the whole is scored once more, until it reaches the target. Most photos take one
whole-image score, product shots two.

That full-size score costs more than the rest of the search together (0.3-0.5 CPU-s for the source's
half and 0.5-0.6 per score on a 6-megapixel photo, against about 0.07 per mosaic trial). So where the
caller's encoder is the one the mosaic was measured against (JPEG) and the image has no wide smooth
areas (fewer than `SMOOTH` of its 8x8 blocks smooth but not flat, `smooth_share`), the mosaic's choice
stands without a full-size score: the mosaic is asked for `SAMPLE_MARGIN` more than the target, above
the most it was measured to overstate the whole on such images (2.0, on a 24-megapixel photo; 0.2-1.4
on the other photos, textures, noise, night scenes; text it understates), in one to four trials (six on
heavy grain; `predicted`). That is a measured bound, not a proof: the bench scores every output whole
at full size (`auto-quality`, `broad`) and reports the minimum. Other formats and images no larger
than a mosaic are scored whole as above; images with wide smooth areas too, but their whole is first
scored at `SMOOTH_START`, as the mosaic's choice says nothing of them. For JPEG those whole-image
scores are estimates (`BANDS`): the finest scale, three quarters of a score's work, is compared in
bands of rows, the coarser scales whole, and the estimate must reach `BAND_MARGIN` more than the
target (the bands read -0.6 to +0.6 from the exact score near 70 on the product shots measured); they
start at `BAND_START` and their first step assumes `BAND_SLOPE` instead of asking the mosaic.
"""

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

TILE = 256
TILES = 3
# What the mosaic is asked for beyond the target: about what it overstates on photos (measured 1.0-1.6).
PRIOR = 1.5
# How far past the target a correction aims, as the slope it steps by is an estimate.
MARGIN = 0.5
# How far past the target a corrected choice may land before a step back is tried, and the most such steps.
EXCESS = 2.0
BACK_STEPS = 3
# Where the search starts, and the step when the scores give no slope.
START = 50
STEP = 4
# The mosaic-only search (`predicted`): the margin above the target it asks the mosaic for, where it
# starts (photos end at 59-62), the slope it assumes until two scores give one (0.4-0.6 a quality step
# on photos, 1-2 on noise), the largest step, how close two bracketing scores must be to interpolate
# between them rather than encode again, and the most trials.
SAMPLE_MARGIN = 2.5
FIRST = 60
SLOPE = 0.55
LARGEST_STEP = 15
BRACKET = 3
TRIALS = 6
# A first score within `NEAR` below the goal is taken as reached `gap / SHALLOW` qualities up, without
# another trial: near q60 the mosaic's scores climb 0.35-0.6 a step (photos 0.55-0.59, night 0.40-0.43,
# text 0.35-0.41), so `SHALLOW` overshoots rather than falls short.
NEAR = 1.0
SHALLOW = 0.35
# The share of smooth (but not flat) 8x8 blocks from which the whole is scored: photos 0.03-0.06,
# product shots on smooth backdrops 0.79-0.92, text (flat, not smooth) 0.
SMOOTH = 0.10
_SMOOTH_DEVIATION = 1.0
_SMOOTH_ROWS = 4
# Where the whole of such an image is first scored: product shots on smooth backdrops reach 70 at 29-41
# (22-28 on white, their curves ragged), and their scores climb slowly there, so a start below costs
# whole-image scores more than a start above costs bytes.
SMOOTH_START = 36
# How JPEG images with wide smooth areas have their whole scored (`Ssimulacra2`'s `sampled`): the finest
# scale in bands of 16 rows, one every 64 (a third of its work with their margins), the coarser scales
# whole; and the margin above the target the estimate must reach.
BANDS = (16, 64)
BAND_MARGIN = 1.0
# Where they start, the margin's worth (about 3 qualities) above `SMOOTH_START`, and the slope their first
# correction assumes instead of asking the mosaic: their whole's scores climb 0.25-0.35 a quality over the
# 16 qualities above q36 (0.34-0.35 on four of the five shots measured), raggedly from one to the next.
BAND_START = 38
BAND_SLOPE = 0.35
_GRID = 16

Encode = Callable[[Image.Image, int], bytes]


@dataclass(frozen=True, slots=True)
class Choice:
    quality: int
    score: float


class _Scores:
    """One picture's SSIMULACRA2 at any quality, each encoded and scored once."""

    def __init__(
        self, image: Image.Image, encode: Encode, sampled: tuple[int, int] | None = None, precise: bool = True
    ) -> None:
        self._image, self._encode, self._sampled, self._precise = image, encode, sampled, precise
        self._source = None  # the source's half, made at the first score: a search that scores none skips it
        self.found: dict[int, tuple[float, bytes]] = {}

    def __call__(self, quality: int) -> float:
        if quality not in self.found:
            if self._source is None:
                # Imported here: the scorer brings OpenCV (0.5 s and 14 MB to import), which only
                # quality=auto needs, not the API nor a worker that never runs it.
                from imgopt.adapters.imaging.ssimulacra2 import Ssimulacra2

                self._source = Ssimulacra2(pixels(self._image), self._sampled, self._precise)
            data = self._encode(self._image, quality)
            self.found[quality] = self._source.score(decoded(data, self._source.channels)), data
        return self.found[quality][0]


@dataclass(frozen=True, slots=True)
class QualitySearch:
    """Search the mosaic for the lowest quality reaching the target, then check (and correct) on the whole."""

    target: float = 70.0
    lowest: int = 10
    highest: int = 95

    def __post_init__(self) -> None:
        if not 0 < self.target < 100:
            raise ValueError(
                f"the auto quality target must be a SSIMULACRA2 score between 0 and 100, not {self.target}"
            )

    def __call__(self, image: Image.Image, encode: Encode, calibrated: bool = False) -> tuple[Choice, bytes]:
        """The quality chosen for `image`, the score reached, and the whole image's encoding at that quality.

        `calibrated`: `encode` is the encoder the mosaic's margin was measured for (JPEG); then an image
        without wide smooth areas takes the mosaic's choice, and the score is the mosaic's (see the module).
        Otherwise the score is the whole image's, at full size.
        """
        mosaic = sample(image)
        if mosaic is image:
            whole = _Scores(image, encode)
            quality = self.lowest_reaching(whole, self.target)
        else:
            # Blurs summed in float32 (`Ssimulacra2`'s `precise`): a quarter cheaper, within 0.01 near the
            # target on mosaics (0.0081 at most on the 26 measured), far inside the margins asked of them.
            proxy = _Scores(mosaic, encode, precise=False)
            smooth = smooth_share(image) >= SMOOTH
            if calibrated and not smooth:
                quality, score = self.predicted(proxy, self.target + SAMPLE_MARGIN)
                return Choice(quality, score), encode(image, quality)
            # On wide smooth areas the mosaic's choice says nothing (it overstates the whole by 2-16): the
            # whole starts where such images end, and only the mosaic's slope is asked for. With JPEG, the
            # whole's finest scale is scored in bands, `BAND_MARGIN` above the target.
            banded = calibrated and smooth
            whole = _Scores(image, encode, BANDS if banded else None)
            goal = self.target + (BAND_MARGIN if banded else 0.0)
            if banded:
                quality = self._corrected(whole, None, BAND_START, goal)
            else:
                start = SMOOTH_START if smooth else self.lowest_reaching(proxy, self.target + PRIOR)
                quality = self._corrected(whole, proxy, start, goal)
        return Choice(quality, whole(quality)), whole.found[quality][1]

    def predicted(self, scores: Callable[[int], float], goal: float) -> tuple[int, float]:
        """The lowest quality whose score reaches `goal`, in few encodings, and its score (interpolated if not encoded).

        From `FIRST`, a step of the gap over `SLOPE` (at most `LARGEST_STEP`), then secant steps through the
        last two scores; once a score below and one above the goal lie within `BRACKET` qualities, the
        quality where the line through them meets the goal is taken, rounded up, without encoding it. Two
        to four encodings on photos, textures and night scenes (six on heavy noise), against four to six
        for `lowest_reaching`, which pins the last quality exactly.
        """
        below = above = last = None  # (quality, score): the best below and above the goal, the last one
        quality = FIRST
        for _ in range(TRIALS):
            score = scores(quality)
            if score >= goal and (above is None or quality < above[0]):
                above = (quality, score)
            elif score < goal and (below is None or quality > below[0]):
                below = (quality, score)
            if last is None and -SHALLOW <= goal - score <= NEAR:
                # Near the goal at the first trial, as photos are: one step up at the shallowest slope measured
                # there (or none when just above), not encoded. Steeper curves land a little above the goal.
                step = max(0, math.ceil((goal - score) / SHALLOW))
                return quality + step, score + step * SHALLOW
            if below and above:
                following, found = _bracketed(below, above, goal)
                if found is not None:
                    return found
            else:
                following = self._stepped(quality, score, last, goal)
                if following == quality:  # at an end of the range, the goal beyond it
                    return quality, score
            last, quality = (quality, score), following
        return above if above is not None else (self.highest, scores(self.highest))

    def _stepped(self, quality: int, score: float, last: tuple[int, float] | None, goal: float) -> int:
        """The next quality to try from `score` at `quality`: the gap over the slope through the last score
        (`SLOPE` until there is a rising one), at most `LARGEST_STEP`, at least one, inside the range."""
        slope = SLOPE
        if last is not None and (score - last[1]) / (quality - last[0]) > 0:
            slope = (score - last[1]) / (quality - last[0])
        step = (goal - score) / slope
        step = max(-LARGEST_STEP, min(LARGEST_STEP, math.ceil(step) if step > 0 else math.floor(step)))
        return min(self.highest, max(self.lowest, quality + (step or (-1 if score >= goal else 1))))

    def lowest_reaching(self, scores: Callable[[int], float], goal: float) -> int:
        """The lowest quality whose score reaches `goal` (scores rising with quality); else the highest.

        Secant steps from `START`, held inside the bracket the scores so far allow (a step past it tries
        the bracket's edge, which brackets the goal tightly when the secant overshot); a step that would
        stay put tries the neighbour, which closes the bracket; halving where the scores fell. Four to six
        encodings near `START` (photos), up to seven far from it, against eight for halving alone.
        """
        low, high = self.lowest - 1, self.highest  # the answer lies in (low, high]
        if scores(high) < goal:
            return high
        last, quality = high, START
        while high - low > 1:
            quality = min(high - 1, max(low + 1, quality))
            score = scores(quality)
            low, high = (low, quality) if score >= goal else (quality, high)
            slope = (score - scores(last)) / (quality - last)
            last = quality
            if slope <= 0:  # scores that fell as the quality rose (a noisy curve): halve instead
                quality = (low + high) // 2
                continue
            step = round((goal - score) / slope)
            quality += step or (-1 if score >= goal else 1)
        return high

    def _corrected(self, whole: _Scores, proxy: _Scores | None, quality: int, goal: float) -> int:
        """From `quality` up, until the whole reaches `goal` (the target, or more for an estimate).

        Each step is the gap over the slope of the scores: the mosaic's near `quality` at first (`BAND_SLOPE`
        without a mosaic), then the whole's own through its last two scores, aiming `MARGIN` past the goal. A
        step that passed by more than `EXCESS` is followed by up to `BACK_STEPS` interpolated steps back, the
        first that passes kept.
        """
        previous = None
        while whole(quality) < goal and quality < self.highest:
            if previous is None and proxy is None:
                slope = BAND_SLOPE
            elif previous is None:
                ahead = min(self.highest, quality + STEP)
                slope = (proxy(ahead) - proxy(quality)) / max(1, ahead - quality)
            else:
                slope = (whole(quality) - whole(previous)) / (quality - previous)
            gap = goal + MARGIN - whole(quality)
            step = math.ceil(gap / slope) if slope > 0 else STEP
            previous, quality = quality, min(self.highest, quality + max(1, step))
        for _ in range(BACK_STEPS if previous is not None and whole(quality) > goal + EXCESS else 0):
            # The step overshot (the whole's scores steepen as they rise): a step back, between the two; when
            # it falls short, again between it and the overshoot (a bracket that narrows).
            below, above = whole(previous), whole(quality)
            back = previous + math.ceil((goal + MARGIN - below) * (quality - previous) / (above - below))
            if not previous < back < quality:
                break
            if whole(back) >= goal:
                return back
            previous = back
        return quality


def _bracketed(below: tuple[int, float], above: tuple[int, float], goal: float) -> tuple[int, tuple[int, float] | None]:
    """Between a (quality, score) below the goal and one above: where the line through them meets it, rounded up,
    and the answer when there is one (`above` when that is the crossing; the crossing, interpolated, when the two
    lie within `BRACKET` qualities), else None and the crossing is the next quality to try."""
    fraction = (goal - below[1]) / (above[1] - below[1]) if above[1] > below[1] else 1.0
    crossing = max(below[0] + 1, math.ceil(below[0] + fraction * (above[0] - below[0])))
    if crossing >= above[0]:
        return crossing, above
    if above[0] - below[0] <= BRACKET:
        share = (crossing - below[0]) / (above[0] - below[0])
        return crossing, (crossing, below[1] + share * (above[1] - below[1]))
    return crossing, None


def sample(image: Image.Image) -> Image.Image:
    """The mosaic the search encodes: at most 768 pixels a side, the image itself when it is that small."""
    columns, rows = _spans(image.width), _spans(image.height)
    if len(columns) == len(rows) == 1:
        return image
    mosaic = Image.new(image.mode, (sum(size for _, size in columns), sum(size for _, size in rows)))
    top = 0
    for y, height in rows:
        left = 0
        for x, width in columns:
            mosaic.paste(image.crop((x, y, x + width, y + height)), (left, top))
            left += width
        top += height
    return mosaic


def _spans(length: int) -> list[tuple[int, int]]:
    """(start, size) of the tiles along one side: evenly spread, starting on the grid."""
    if length <= TILE * TILES:
        return [(0, length)]
    step = (length - TILE) / (TILES - 1)
    return [(int(index * step) // _GRID * _GRID, TILE) for index in range(TILES)]


def smooth_share(image: Image.Image) -> float:
    """The share of the image's 8x8 luma blocks that are smooth but not flat (deviation below 1 level, above 0).

    Smooth gradients are what JPEG bands at the coarse scales a mosaic barely has; flat areas (a page's
    white) do not band. The blocks of every `_SMOOTH_ROWS`-th row of blocks are counted, each as it is in
    the whole (a wide area spans many rows of blocks): about 8 ms for 6 megapixels, against 25-33 for
    every block.
    """
    import cv2  # with the scorer, which needs it too; not loaded by the API

    height, width = image.height // 8 * 8, image.width // 8 * 8
    if not height or not width:
        return 0.0
    tops = range(0, height, 8 * _SMOOTH_ROWS)
    strips = Image.new(image.mode, (width, 8 * len(tops)))
    for index, top in enumerate(tops):
        strips.paste(image.crop((0, top, width, top + 8)), (0, 8 * index))
    centred = np.asarray(strips.convert("L")).astype(np.float32) - 128
    size = (width // 8, len(tops))
    mean = cv2.resize(centred, size, interpolation=cv2.INTER_AREA)
    variance = cv2.resize(centred * centred, size, interpolation=cv2.INTER_AREA) - mean * mean
    smooth = (variance > 1e-4) & (variance < _SMOOTH_DEVIATION**2)
    return float(np.count_nonzero(smooth)) / smooth.size


def pixels(image: Image.Image) -> np.ndarray:
    """8-bit RGB, or RGBA when `image` has alpha, as SSIMULACRA2 takes them."""
    translucent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    return np.asarray(image.convert("RGBA" if translucent else "RGB"))


def decoded(data: bytes, channels: int) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA" if channels == 4 else "RGB"))
