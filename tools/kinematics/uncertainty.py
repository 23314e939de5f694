"""How uncertain a kinematic value is: the pose model's jitter, and what aggregates make of it.

Measurements run on *dense* pose (every source frame up to 30 frames/s, see
``VidDiffContext.pose_fps``), not on the few frames shown to a vision model. At that rate the
body moves little between consecutive frames, so the pose model's frame-to-frame jitter can be
told apart from the motion itself:

* **Smoothing and jitter.** Each per-frame signal is fitted by a Savitzky–Golay filter
  (local quadratic over :data:`WINDOW_S` seconds, at least 5 frames). The residual
  ``x - fit`` is the jitter; its robust, visibility-weighted standard deviation (MAD × 1.4826)
  divided by ``sqrt(1 - h0)`` (``h0`` the filter's centre weight: the residual of white noise
  has variance ``sigma² (1 - h0)``) is the per-frame noise ``sigma``. A quadratic follows a
  movement over a quarter of a second, so real motion hardly leaks into it. A frame whose
  residual exceeds :data:`OUTLIER_SIGMAS` × sigma (a glitch of the model) is dropped and the
  fit redone, worst first, for at most one frame in twenty.
* **Extremes** (min, max, range) are read on the fitted curve, refined between frames by the
  parabola through the extreme frame and its neighbours. Their standard uncertainty is the
  noise of a fitted value, ``sigma * sqrt(h0)``, and, in quadrature, half the spread of the
  extreme read on every frame and on each half of the frames (:func:`sampling_spread`, at
  pose rates from about 30 frames/s, where a half can be fitted over the same time): an
  extreme of a brief peak depends on which frames were sampled, so it differs between pose
  rates by more than the fitted value's noise; for a movement slower than the fit's span the
  halves read the same extreme and nothing is added.
  The frame of each extreme is kept as *evidence*: the report shows that frame.
* **Means and medians**: ``sigma / sqrt(n_eff)``, with ``n_eff`` the frames spaced at least
  :data:`JITTER_CORRELATION_S` apart (the tracker's jitter is correlated over a few frames),
  plus, for a segment placed by a localizer, what moving each boundary by
  ``BOUNDARY_UNCERTAINTY_S`` would change. Frames weigh by what the signal says of them (a
  landmark's visibility; a long hold counts as a brief one,
  :mod:`viddiff.tools.kinematics.holds`), ``n_eff`` counting them by their weights. A median
  also carries half the spread of the values between its :data:`MEDIAN_SHIFT` quantiles either
  side: a signal that spends its time in two places (feet together, then in a lunge) has its
  median in the gap between them, where a little more time on one side moves it far. Their
  evidence is the first and last frame.
* **Durations**: one frame period at each end of a whole clip, ``BOUNDARY_UNCERTAINTY_S`` per
  boundary of a localized stage (:mod:`viddiff.tools.kinematics.timing`).
* Torso-length normalisation adds the relative uncertainty of the scale; a floor per kind
  (:data:`NOISE_FLOOR`: 1 degree, 0.01 TL, ...) keeps noise-free synthetic data from claiming
  infinite precision.

What this does not contain: the error of the viewpoint. One camera's 3-D pose still depends on
where the camera stands (the four synchronized views of one lunge differ by 5-11° RMS in
their angles). :mod:`viddiff.tools.kinematics.comparison` adds a measured cross-view term only
when the two videos see the body from clearly different directions.

Each value also reports ``n_frames``, the number of valid frames it rests on (landmarks with
visibility below 0.5 are not used).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from viddiff.tools.kinematics.filters import savgol_coeffs, savgol_filter, true_runs
from viddiff.tools.kinematics.results import Aggregate

#: Standard uncertainty of one stage boundary placed by a localizer, in seconds (see durations).
BOUNDARY_UNCERTAINTY_S = 0.1
#: Span of the local quadratic fit that separates motion from jitter, in seconds.
WINDOW_S = 0.25
#: Fewest frames a fit may use (a quadratic needs some redundancy to measure jitter).
MIN_WINDOW = 5
#: Frames further than this many sigma from the fit are taken as glitches of the pose model.
OUTLIER_SIGMAS = 6.0
#: Over how long the tracker's jitter stays correlated (frames closer count as one, for means).
JITTER_CORRELATION_S = 0.1
#: A median's uncertainty reads the values this share of the weight below and above it: how
#: far the median would move if 5 % more of the time were spent on either side of it.
MEDIAN_SHIFT = 0.05

#: :func:`sampling_spread` reads every other frame only where that fit spans at most this
#: many times the full rate's (30 frames/s: 0.33 s against 0.30 s; 15 frames/s: twice as long).
MAX_HALF_SPAN_RATIO = 1.25

#: Smallest per-frame noise a signal of each kind is taken to have (noise-free synthetic data
#: must not claim infinite precision).
NOISE_FLOOR: dict[str, float] = {"angle": 1.0, "length": 0.01, "ratio": 0.02, "time": 0.0,
                                 "speed": 0.02, "count": 0.0}
#: Per-frame noise assumed when too few frames are valid to measure it.
DEFAULT_NOISE: dict[str, float] = {"angle": 4.0, "length": 0.04, "ratio": 0.1, "time": 0.0,
                                   "speed": 0.2, "count": 0.0}


@dataclass(frozen=True)
class Smoothed:
    """A per-frame signal after the jitter model: the kept raw values (glitches removed), the
    fitted curve, the per-frame jitter ``sigma`` (None: too few frames to measure it) and
    ``gain``, the standard deviation of a fitted value in units of ``sigma``."""

    raw: np.ndarray
    fit: np.ndarray
    sigma: float | None
    gain: float


@dataclass(frozen=True)
class Reading:
    """A signal reduced over a segment: value (None: nothing valid), standard uncertainty,
    valid frames, and the pose frames (rows) the value was read at."""

    value: float | None
    uncertainty: float
    n_frames: int
    rows: tuple[int, ...]


def window_frames(frame_period: float) -> int:
    """Odd number of frames spanning about :data:`WINDOW_S` (at least :data:`MIN_WINDOW`)."""
    n = round(WINDOW_S / frame_period) if frame_period > 0 else MIN_WINDOW
    n = max(MIN_WINDOW, n)
    return n if n % 2 == 1 else n + 1


def _centre_weight(window: int) -> float:
    """``h0``: the weight a quadratic Savitzky–Golay fit gives the frame it is centred on."""
    return float(savgol_coeffs(window, 2)[window // 2])


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    return _weighted_quantile(values, weights, 0.5)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value with at least share ``q`` of the weight at or below it."""
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    if cum[-1] <= 0:
        return float(np.quantile(values, q))
    return float(v[min(int(np.searchsorted(cum, q * cum[-1])), v.size - 1)])


def _fit_runs(x: np.ndarray, window: int, breaks: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Savitzky–Golay fit of every run of consecutive valid frames long enough for it (a row
    in ``breaks`` starts a new run: a cut, across which a fit would ring); returns the fit
    (raw value where a run is too short) and a mask of frames that were fitted."""
    fit = x.copy()
    fitted = np.zeros(x.shape, dtype=bool)
    for start, stop in true_runs(np.isfinite(x)):
        inner = [int(b) for b in breaks if start < b < stop] if breaks is not None else []
        for a, b in zip([start, *inner], [*inner, stop], strict=True):
            if b - a >= window:
                fit[a:b] = savgol_filter(x[a:b], window, 2)
                fitted[a:b] = True
    return fit, fitted


def _jitter(x: np.ndarray, fit: np.ndarray, fitted: np.ndarray, weights: np.ndarray,
            h0: float) -> float | None:
    use = fitted & np.isfinite(x)
    if use.sum() < MIN_WINDOW:
        return None
    resid = np.abs(x[use] - fit[use])
    mad = _weighted_median(resid, weights[use] + 1e-9)
    return 1.4826 * mad / math.sqrt(max(1.0 - h0, 1e-6))


def smooth(values: np.ndarray, weights: np.ndarray, frame_period: float,
           floor: float = 0.0, breaks: np.ndarray | None = None) -> Smoothed:
    """The jitter model of one per-frame signal (see the module docstring); glitches are
    judged against the measured jitter or ``floor``, whichever is larger (a noise-free
    signal must not turn every small wobble into a glitch). ``breaks``: rows that start a new
    stretch of the clip (its cuts, :func:`viddiff.tools.pose.cuts.cut_frames`), fitted apart."""
    x = np.asarray(values, dtype=np.float64).copy()
    w = np.asarray(weights, dtype=np.float64)
    window = window_frames(frame_period)
    h0 = _centre_weight(window)
    fit, fitted = _fit_runs(x, window, breaks)
    sigma = _jitter(x, fit, fitted, w, h0)
    # drop glitches one at a time, worst first: a spike pulls the fit at its neighbours too,
    # and those frames are not glitches
    for _ in range(max(1, x.size // 20)):
        scale = max(sigma or 0.0, floor)
        if scale <= 0:
            break
        resid = np.where(fitted & np.isfinite(x), np.abs(x - fit), 0.0)
        worst = int(np.argmax(resid))
        if resid[worst] <= OUTLIER_SIGMAS * scale:
            break
        x[worst] = np.nan
        fit, fitted = _fit_runs(x, window, breaks)
        sigma = _jitter(x, fit, fitted, w, h0)
    fit = np.where(np.isfinite(x), fit, np.nan)
    # a fitted value averages the frames of its window with weights whose squares sum to h0;
    # for jitter correlated over JITTER_CORRELATION_S (c frames) its variance is about
    # sigma^2 * h0 * c, not sigma^2 * h0, and so does not shrink at a denser pose sampling
    correlated = max(1.0, JITTER_CORRELATION_S / frame_period) if frame_period > 0 else 1.0
    return Smoothed(raw=x, fit=fit, sigma=sigma, gain=math.sqrt(min(1.0, max(h0, 0.0) *
                                                                     correlated)))


def frame_noise(values: np.ndarray, weights: np.ndarray, frame_period: float = 1 / 30) -> \
        float | None:
    """Per-frame jitter (standard deviation) of a signal; None if too few frames."""
    return smooth(values, weights, frame_period).sigma


def _refine(y: np.ndarray, i: int, lo: int, hi: int) -> float:
    """The extreme of the parabola through frames ``i - 1, i, i + 1`` (inside ``lo:hi``)."""
    if i - 1 < lo or i + 1 >= hi:
        return float(y[i])
    return _vertex(y, i)


def _vertex(y: np.ndarray, i: int) -> float:
    a, b, c = float(y[i - 1]), float(y[i]), float(y[i + 1])
    if not (math.isfinite(a) and math.isfinite(c)):
        return b
    curvature = a - 2 * b + c
    if curvature == 0:
        return b
    offset = 0.5 * (a - c) / curvature
    if abs(offset) > 1:
        return b
    return b - 0.25 * (a - c) * offset


def _within_data(s: Smoothed, value: float, i: int, sl: slice) -> float:
    """``value`` kept inside the range of the raw values around frame ``i``: a quadratic fit
    overshoots at a sharp corner (a step, a sudden stop), and an extreme must never lie beyond
    what the pose model actually read."""
    half = 2  # frames either side
    near = s.raw[max(sl.start, i - half):min(sl.stop, i + half + 1)]
    near = near[np.isfinite(near)]
    if near.size == 0:
        return value
    return float(min(max(value, float(near.min())), float(near.max())))


def aggregate(s: Smoothed, w: np.ndarray, sl: slice, agg: Aggregate, sigma: float,
              frame_period: float, boundary_s: float = 0.0) -> Reading:
    """Reduce the signal over the slice (see the module docstring for the uncertainties).

    ``sigma`` is the per-frame jitter to use (``s.sigma``, a default or a floor applied);
    ``boundary_s`` the standard uncertainty of the segment's ends (0 for a whole clip).
    """
    seg = s.raw[sl]
    ok = np.isfinite(seg)
    n = int(ok.sum())
    if n == 0:
        return Reading(None, 0.0, 0, ())
    rows = np.flatnonzero(ok) + sl.start
    span = (int(rows[0]), int(rows[-1]))
    if agg in ("mean", "median"):
        vals = seg[ok]
        wts = w[sl][ok]
        if wts.sum() <= 0:
            wts = np.ones_like(vals)
        spacing = max(1.0, JITTER_CORRELATION_S / frame_period) if frame_period > 0 else 1.0
        # frames that weigh less (a long hold's, a half-seen landmark's) are fewer frames
        n_eff = max(1.0, _effective_count(wts) / spacing)
        unc = sigma / math.sqrt(n_eff)
        duration = n * frame_period
        if boundary_s > 0 and duration > 0 and n > 1:
            unc = math.hypot(unc, float(np.std(vals)) * math.sqrt(2) * boundary_s / duration)
        if agg == "median":
            alike = bool(np.all(wts == wts[0]))  # the plain median: even counts average
            median = float(np.median(vals)) if alike else _weighted_median(vals, wts)
            lo, hi = (_weighted_quantile(vals, wts, 0.5 + d) for d in (-MEDIAN_SHIFT,
                                                                       MEDIAN_SHIFT))
            return Reading(median, math.hypot(1.2533 * unc, (hi - lo) / 2), n, span)
        return Reading(float(np.average(vals, weights=wts)), unc, n, span)
    fit = s.fit[sl]
    i_max = sl.start + int(np.nanargmax(fit))
    i_min = sl.start + int(np.nanargmin(fit))
    hi = _within_data(s, _refine(s.fit, i_max, sl.start, sl.stop), i_max, sl)
    lo = _within_data(s, _refine(s.fit, i_min, sl.start, sl.stop), i_min, sl)
    extreme = sigma * s.gain
    if agg == "max":
        return Reading(hi, extreme, n, (i_max,))
    if agg == "min":
        return Reading(lo, extreme, n, (i_min,))
    return Reading(hi - lo, math.sqrt(2) * extreme, n, tuple(sorted((i_min, i_max))))


def _effective_count(weights: np.ndarray) -> float:
    """Kish's effective number of values of a weighted average: (sum w)^2 / sum w^2."""
    total = float(weights.sum())
    return total * total / float((weights * weights).sum()) if total > 0 else 0.0


def mean_over_reps(values: list[float], uncertainty: float) -> tuple[float, float]:
    """The mean of one value per repetition, and its standard uncertainty: the per-rep
    ``uncertainty`` and the rep-to-rep spread, both over the square root of the number of
    reps (one rep: no spread)."""
    v = np.asarray(values, dtype=float)
    spread = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    return float(v.mean()), math.hypot(uncertainty, spread) / math.sqrt(v.size)


def sampling_spread(value: float, values: np.ndarray, weights: np.ndarray, frame_period: float,
                    floor: float, sl: slice, agg: Aggregate, sigma: float,
                    breaks: np.ndarray | None = None) -> float:
    """How much an extreme depends on which frames were sampled: half the spread of its
    ``value`` read on every frame and the same read on every other frame (both phases, each
    fitted at twice the frame period, as a pose rate half as dense would read it).

    An extreme is the largest of many noisy fitted values, so it moves with the sampling:
    more frames are more chances for a jitter excursion at the peak, and a denser rate sees
    parts of a brief peak that a sparser one steps over. The fitted value's own noise
    (``sigma * gain``) does not contain that; a value that changes when every other frame is
    left out is not known better than that change, whatever the rate it was read at.

    Only where the halves can be fitted over about the same time as the whole
    (:data:`MAX_HALF_SPAN_RATIO`: from about 30 frames/s up): at a sparse rate their fit is
    held at :data:`MIN_WINDOW` frames and spans far longer, so their extremes are flatter and
    the spread would be the smoothing's, not the sampling's."""
    if agg not in ("min", "max", "range") or sl.stop - sl.start < 4 * MIN_WINDOW:
        return 0.0
    span, half_span = (window_frames(p) * p for p in (frame_period, 2 * frame_period))
    if half_span > MAX_HALF_SPAN_RATIO * span:  # the halves' fit is forced to MIN_WINDOW
        return 0.0
    x = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    out: list[float] = [value]
    for phase in (0, 1):  # row r of the series is row (r - phase) / 2 of a phase
        sub = (breaks - phase + 1) // 2 if breaks is not None else None
        s = smooth(x[phase::2], w[phase::2], 2 * frame_period, floor, sub)
        start = (sl.start - phase + 1) // 2
        stop = (sl.stop - phase + 1) // 2
        if stop - start >= MIN_WINDOW:
            sparse = aggregate(s, w[phase::2], slice(start, stop), agg, sigma,
                               2 * frame_period).value
            if sparse is not None:
                out.append(sparse)
    return (max(out) - min(out)) / 2
