"""Savitzky–Golay smoothing and peak finding on 1-D signals, in NumPy.

Why not ``scipy.signal``: importing it costs about a second (it loads ``scipy.stats`` and
rewrites hundreds of docstrings at import time), paid by every run that measures anything,
warm runs included, where it was a third of the wall time. The metrics need only three small
pieces of it, reproduced here with the same definitions (tests/test_filters.py checks them
against SciPy on random signals):

* :func:`savgol_coeffs` — least-squares polynomial smoothing weights, centred;
* :func:`savgol_filter` — smoothing with those weights, the ends fitted by a polynomial over
  the first/last window (SciPy's ``mode="interp"``, its default);
* :func:`find_peaks` — local maxima (plateaus at their middle), thinned by minimum distance
  (highest first), then kept by topographic prominence.

and :func:`true_runs`, the runs of a boolean mask, which the smoothing, the movement's rests
and the holds all read.
"""

from __future__ import annotations

import math

import numpy as np


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """The runs of True in the 1-D ``mask`` as ``(first, stop)`` rows (``stop`` exclusive)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], np.asarray(mask).astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def savgol_coeffs(window: int, polyorder: int) -> np.ndarray:
    """Weights (window,) of a least-squares polynomial fit of degree ``polyorder`` over
    ``window`` samples, evaluated at the centre sample (window odd)."""
    if window % 2 != 1 or window < 1:
        raise ValueError(f"window must be a positive odd number, got {window}")
    if polyorder >= window:
        raise ValueError("polyorder must be less than window")
    half = window // 2
    positions = np.arange(-half, half + 1, dtype=np.float64)
    design = positions ** np.arange(polyorder + 1).reshape(-1, 1)  # (polyorder+1, window)
    target = np.zeros(polyorder + 1)
    target[0] = 1.0
    coeffs, *_ = np.linalg.lstsq(design, target, rcond=None)
    return np.asarray(coeffs)


def savgol_filter(x: np.ndarray, window: int, polyorder: int) -> np.ndarray:
    """``x`` smoothed by :func:`savgol_coeffs`; the first and last ``window // 2`` samples
    come from a polynomial fitted to the first/last ``window`` samples (needs len(x) >=
    window)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n < window:
        raise ValueError(f"signal of {n} samples is shorter than the window ({window})")
    coeffs = savgol_coeffs(window, polyorder)
    half = window // 2
    out = np.empty(n, dtype=np.float64)
    out[half:n - half] = np.convolve(x, coeffs[::-1], mode="valid")
    if half:
        at = np.arange(window, dtype=np.float64)
        head = np.polynomial.polynomial.polyfit(at, x[:window], polyorder)
        tail = np.polynomial.polynomial.polyfit(at, x[n - window:], polyorder)
        out[:half] = np.polynomial.polynomial.polyval(at[:half], head)
        out[n - half:] = np.polynomial.polynomial.polyval(at[window - half:], tail)
    return out


def _local_maxima(x: np.ndarray) -> np.ndarray:
    """Indices of local maxima; a flat top counts once, at its middle (rounded down); the
    first and last samples are never peaks."""
    peaks = []
    n = x.shape[0]
    i = 1
    while i < n - 1:
        if x[i - 1] < x[i]:
            ahead = i + 1
            while ahead < n - 1 and x[ahead] == x[i]:
                ahead += 1
            if x[ahead] < x[i]:
                peaks.append((i + ahead - 1) // 2)
                i = ahead
        i += 1
    return np.asarray(peaks, dtype=np.int64)


def _by_distance(peaks: np.ndarray, heights: np.ndarray, distance: float) -> np.ndarray:
    """Mask keeping, highest first, peaks at least ``distance`` samples from a kept one."""
    gap = math.ceil(distance)
    keep = np.ones(peaks.shape[0], dtype=bool)
    for j in np.argsort(heights, kind="stable")[::-1]:
        if not keep[j]:
            continue
        near = (np.abs(peaks - peaks[j]) < gap)
        near[j] = False
        keep &= ~near
    return keep


def prominences(x: np.ndarray, peaks: np.ndarray, *, cut_ends: bool = False) -> np.ndarray:
    """How far each peak stands above the higher of its two bases: the lowest points between
    it and the nearest higher sample (or the signal's end) on each side. With ``cut_ends``
    the signal is a cut-out of a longer one (a clip of a movement): a side that reaches the
    end with no higher sample has an unknown base -- the signal may fall further beyond the
    cut -- so only the other side's base counts (scipy's rule would give a turnaround two
    frames before the clip ends the height of those two frames' fall)."""
    out = np.empty(peaks.shape[0], dtype=np.float64)
    for k, p in enumerate(peaks):
        top = x[p]
        higher_left = np.flatnonzero(x[:p] > top)
        higher_right = np.flatnonzero(x[p + 1:] > top)
        lo = higher_left[-1] + 1 if higher_left.size else 0
        hi = p + 1 + higher_right[0] if higher_right.size else x.shape[0]
        bases = [x[lo:p + 1].min(), x[p:hi].min()]
        if cut_ends and higher_left.size != higher_right.size:  # exactly one side is open
            bases = [bases[0]] if higher_left.size else [bases[1]]
        out[k] = top - max(bases)
    return out


def find_peaks(x: np.ndarray, *, prominence: float | None = None,
               distance: float | None = None, cut_ends: bool = False) -> np.ndarray:
    """Indices of the peaks of ``x``: local maxima, at least ``distance`` samples apart
    (higher peaks win), with prominence at least ``prominence`` (``cut_ends``: see
    :func:`prominences`)."""
    x = np.asarray(x, dtype=np.float64)
    peaks = _local_maxima(x)
    if distance is not None and peaks.size:
        if distance < 1:
            raise ValueError("distance must be >= 1")
        peaks = peaks[_by_distance(peaks, x[peaks], distance)]
    if prominence is not None and peaks.size:
        peaks = peaks[prominences(x, peaks, cut_ends=cut_ends) >= prominence]
    return peaks
