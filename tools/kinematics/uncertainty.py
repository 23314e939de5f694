"""How uncertain a kinematic value is: per-frame noise, and what aggregates make of it.

Each per-frame signal carries frame-to-frame jitter from the pose model; 3-D angles jitter up
to about twice as much as 2-D ones (the model's depth is noisier), which needs no special
treatment because the jitter is measured on each signal as it is: the robust (MAD)
standard deviation of the high-pass residual ``x[t] - (x[t-1] + x[t+1]) / 2`` over consecutive
valid frames, weighted by landmark visibility, divided by ``sqrt(1.5)`` (the residual's
variance is 1.5 times the frame variance for white noise). Real curvature leaks into the
residual, so this errs on the large side. Aggregates turn it into a standard uncertainty of the
value:

* minima/maxima/ranges are read from the 3-frame running median (a one-frame glitch of the pose
  model cannot set them): ``sigma`` plus a sampling term (a quarter of the gap to the nearest
  neighbouring frame: the true extreme lies between samples) plus half of what the median
  filter shaved off the raw extreme; ranges combine both ends;
* means/medians: ``sqrt(sigma^2 + sd^2) / sqrt(n)`` with ``sd`` the spread within the segment,
  since which frames fall in a stage (and when they were sampled) is uncertain too;
* durations: one frame period for a whole clip, ``BOUNDARY_UNCERTAINTY_S`` (0.1 s) per stage
  boundary for segments placed by a localizer (:mod:`viddiff.tools.kinematics.timing`);
* torso-length normalisation adds the relative uncertainty of the scale; a floor per kind
  (1 degree, 0.01 TL, ...) keeps noise-free synthetic data from claiming infinite precision.

Each value also reports ``n_frames``, the number of valid frames it rests on (landmarks with
visibility below 0.5 are not used).

Limits worth stating. Lengths and heights are 2-D projections, so comparing them assumes
similar camera viewpoints (as in the benchmark's pairs). 3-D angles come from one view: the
model guesses depth, and its guess has a per-view error that frame-to-frame jitter does not
reveal, so the uncertainty above does not contain it. On four synchronized views of one lunge
the angles of different views still differ by 5-11° RMS per frame (2-D: 7-17°), far above their
1-3.6° jitter; a knee bending towards the camera may read nearly straight in 3-D as in 2-D.
Different viewpoints can therefore still yield labels for angle differences of 10-30°
(bench/RESULTS.md, "Pose and offline engine", counts them).
"""

from __future__ import annotations

import math

import numpy as np

from viddiff.tools.kinematics.results import Aggregate

#: Standard uncertainty of one stage boundary placed by a localizer, in seconds (see durations).
BOUNDARY_UNCERTAINTY_S = 0.1
#: Smallest per-frame noise a signal of each kind is taken to have (noise-free synthetic data
#: must not claim infinite precision).
NOISE_FLOOR: dict[str, float] = {"angle": 1.0, "length": 0.01, "ratio": 0.02, "time": 0.0,
                                 "speed": 0.02}
#: Per-frame noise assumed when too few frames are valid to measure it.
DEFAULT_NOISE: dict[str, float] = {"angle": 4.0, "length": 0.04, "ratio": 0.1, "time": 0.0,
                                   "speed": 0.2}


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    if cum[-1] <= 0:
        return float(np.median(values))
    return float(v[np.searchsorted(cum, 0.5 * cum[-1])])


def frame_noise(values: np.ndarray, weights: np.ndarray) -> float | None:
    """Robust per-frame noise (standard deviation) of a signal; None if too few frames.

    MAD of the high-pass residual ``x[t] - (x[t-1] + x[t+1]) / 2`` over triples of consecutive
    valid frames, each weighted by its least visible frame, scaled to a standard deviation and
    divided by ``sqrt(1.5)`` (residual variance of white noise).
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size < 5:
        return None
    ok = np.isfinite(x)
    trip = ok[1:-1] & ok[:-2] & ok[2:]
    if trip.sum() < 3:
        return None
    resid = x[1:-1] - 0.5 * (x[:-2] + x[2:])
    w = np.minimum(np.minimum(weights[1:-1], weights[:-2]), weights[2:])
    return 1.4826 * _weighted_median(np.abs(resid[trip]), w[trip] + 1e-9) / math.sqrt(1.5)



def _median3(x: np.ndarray) -> np.ndarray:
    """Median of each valid frame and its valid neighbours (removes one-frame spikes)."""
    padded = np.concatenate([[np.nan], x, [np.nan]])
    stack = np.sort(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)  # NaNs last
    count = np.isfinite(stack).sum(axis=0)
    out = np.where(count == 3, stack[1], np.where(count == 2, 0.5 * (stack[0] + stack[1]),
                                                  stack[0]))
    return np.where(np.isfinite(x), out, np.nan)


def aggregate(x: np.ndarray, w: np.ndarray, sl: slice, agg: Aggregate,
              sigma: float) -> tuple[float | None, float, int]:
    """Reduce the signal over the slice; returns value, standard uncertainty, valid frames.

    Extremes (min, max, range) are read from the 3-frame running median, so a single-frame
    glitch of the pose model cannot set them; half of what that filter shaved off the raw
    extreme is added to the uncertainty (a real one-frame peak is then merely less certain).
    Means and medians count the spread of the signal within the segment as well as the noise
    (``sqrt(sigma^2 + sd^2) / sqrt(n)``): which frames fall in a stage, and at which instants
    they were sampled, is itself uncertain.
    """
    seg = x[sl]
    ok = np.isfinite(seg)
    n = int(ok.sum())
    if n == 0:
        return None, 0.0, 0
    vals = seg[ok]
    if agg in ("mean", "median"):
        spread = float(np.std(vals)) if n > 1 else 0.0
        base = math.hypot(sigma, spread) / math.sqrt(n)
        if agg == "median":
            return float(np.median(vals)), 1.2533 * base, n
        wts = w[sl][ok]
        mean = float(np.average(vals, weights=wts)) if wts.sum() > 0 else float(vals.mean())
        return mean, base, n
    filt = _median3(x)
    fseg = filt[sl]
    i_max = sl.start + int(np.nanargmax(fseg))
    i_min = sl.start + int(np.nanargmin(fseg))
    hi = (float(filt[i_max]), math.hypot(_sampling_term(filt, i_max),
                                         0.5 * (float(np.nanmax(seg)) - float(filt[i_max]))))
    lo = (float(filt[i_min]), math.hypot(_sampling_term(filt, i_min),
                                         0.5 * (float(filt[i_min]) - float(np.nanmin(seg)))))
    if agg == "max":
        return hi[0], math.hypot(sigma, hi[1]), n
    if agg == "min":
        return lo[0], math.hypot(sigma, lo[1]), n
    return hi[0] - lo[0], math.sqrt(2 * sigma**2 + hi[1] ** 2 + lo[1] ** 2), n


def _sampling_term(x: np.ndarray, i: int) -> float:
    """A quarter of the smallest gap to a valid neighbouring frame: the continuous extreme lies
    between samples, at most about that far from the sampled one."""
    gaps = [abs(x[i] - x[j]) for j in (i - 1, i + 1) if 0 <= j < x.size and np.isfinite(x[j])]
    return 0.25 * min(gaps) if gaps else 0.0

