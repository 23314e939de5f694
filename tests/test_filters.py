"""The NumPy Savitzky–Golay and peak finder agree with SciPy's (which the metrics used before:
importing ``scipy.signal`` cost a second per run)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import signal

from viddiff.tools.kinematics import filters


@pytest.mark.parametrize("window", [5, 7, 9, 15, 31])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_savgol_matches_scipy(window: int, order: int) -> None:
    rng = np.random.default_rng(window * 10 + order)
    x = np.cumsum(rng.normal(size=80)) + rng.normal(size=80)
    np.testing.assert_allclose(filters.savgol_coeffs(window, order),
                               signal.savgol_coeffs(window, order), atol=1e-10)
    for n in (window, window + 1, 80):
        np.testing.assert_allclose(filters.savgol_filter(x[:n], window, order),
                                   signal.savgol_filter(x[:n], window, order), atol=1e-8)


def test_savgol_rejects_short_signals() -> None:
    with pytest.raises(ValueError):
        filters.savgol_filter(np.zeros(4), 5, 2)


@pytest.mark.parametrize("seed", range(40))
def test_find_peaks_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    x = np.abs(np.sin(np.linspace(0, rng.uniform(2, 30), n)) + rng.normal(0, 0.3, n))
    if seed % 3 == 0:
        x = np.round(x, 1)  # plateaus and ties
    prom = float(rng.uniform(0, 0.6)) * float(x.max())
    dist = float(rng.integers(1, 30))
    want, _ = signal.find_peaks(x, prominence=prom, distance=dist)
    got = filters.find_peaks(x, prominence=prom, distance=dist)
    if seed % 3 == 0:  # equal heights may be thinned in another order than SciPy's sort
        assert abs(len(got) - len(want)) <= max(1, len(want) // 10)
    else:
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(filters.find_peaks(x), signal.find_peaks(x)[0])
    peaks = signal.find_peaks(x)[0]
    np.testing.assert_allclose(filters.prominences(x, peaks),
                               signal.peak_prominences(x, peaks)[0])


def test_measuring_does_not_import_scipy_signal() -> None:
    code = ("import sys, numpy as np\n"
            "from viddiff.tools.kinematics import movement, registry, uncertainty\n"
            "print('scipy.signal' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
