"""Monotone Viterbi: fast version == plain loop == brute force over all monotone labellings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from viddiff.tools.viterbi import _costs, viterbi_monotone, viterbi_reference


def _labellings(K: int, T: int) -> list[np.ndarray]:
    """Every labelling the DP may return: in order, none skipped (K ≤ T) or one frame per
    stage, strictly increasing (K > T)."""
    out = []
    if K <= T:
        for cuts in itertools.combinations(range(1, T), K - 1):
            lab = np.zeros(T, dtype=np.int64)
            for c in cuts:
                lab[c:] += 1
            out.append(lab)
    else:
        for stages in itertools.combinations(range(K), T):
            out.append(np.array(stages, dtype=np.int64))
    return out


def _cost(C: np.ndarray, labels: np.ndarray) -> int:
    return int(C[labels, np.arange(C.shape[1])].sum())


def _check_against_brute_force(P: np.ndarray) -> None:
    C = _costs(P, 1e-6)
    fast, ref = viterbi_monotone(P), viterbi_reference(P)
    np.testing.assert_array_equal(fast, ref)
    best = min(_cost(C, lab) for lab in _labellings(*P.shape))
    assert _cost(C, fast) == best
    assert np.all(np.diff(fast) >= 0)


def test_random_matrices_match_brute_force() -> None:
    rng = np.random.default_rng(1234)
    for _ in range(1500):
        K, T = int(rng.integers(1, 6)), int(rng.integers(1, 9))
        _check_against_brute_force(rng.random((K, T)))


def test_matrices_with_many_ties_match_brute_force() -> None:
    """Coarse values make exact ties common; both implementations must break them alike."""
    rng = np.random.default_rng(99)
    for _ in range(800):
        K, T = int(rng.integers(1, 6)), int(rng.integers(1, 9))
        _check_against_brute_force(rng.integers(0, 3, size=(K, T)) / 2)


def test_unique_optimum_is_found_exactly() -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        K, T = int(rng.integers(2, 5)), int(rng.integers(5, 9))
        P = rng.random((K, T))
        C = _costs(P, 1e-6)
        costs = sorted((_cost(C, lab), tuple(lab)) for lab in _labellings(K, T))
        if costs[0][0] == costs[1][0]:
            continue
        assert tuple(viterbi_monotone(P)) == costs[0][1]


def test_every_stage_gets_a_contiguous_run_in_order() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        K, T = int(rng.integers(1, 8)), int(rng.integers(8, 60))
        labels = viterbi_monotone(rng.random((K, T)))
        assert labels[0] == 0 and labels[-1] == K - 1
        assert set(np.diff(labels).tolist()) <= {0, 1}
        assert sorted(set(labels.tolist())) == list(range(K))


def test_obvious_stages_are_recovered() -> None:
    truth = np.repeat([0, 1, 2, 3], [5, 3, 7, 2])
    P = np.full((4, truth.size), 0.05)
    P[truth, np.arange(truth.size)] = 0.95
    np.testing.assert_array_equal(viterbi_monotone(P), truth)


def test_ties_keep_frames_in_the_later_stage() -> None:
    """Documented tie rule: stage boundaries as early as possible."""
    np.testing.assert_array_equal(viterbi_monotone(np.ones((3, 6))), [0, 1, 2, 2, 2, 2])
    np.testing.assert_array_equal(viterbi_reference(np.ones((3, 6))), [0, 1, 2, 2, 2, 2])
    # K > T with ties: earlier stages win.
    np.testing.assert_array_equal(viterbi_monotone(np.ones((5, 3))), [0, 1, 2])


def test_k_equals_t_is_the_diagonal() -> None:
    P = np.random.default_rng(0).random((6, 6))
    np.testing.assert_array_equal(viterbi_monotone(P), np.arange(6))


def test_single_stage_and_single_frame() -> None:
    np.testing.assert_array_equal(viterbi_monotone(np.random.rand(1, 9)), np.zeros(9))
    np.testing.assert_array_equal(viterbi_monotone(np.array([[0.3]])), [0])
    # One frame, several stages: the most likely stage takes it.
    np.testing.assert_array_equal(viterbi_monotone(np.array([[0.1], [0.9], [0.2]])), [1])


def test_more_stages_than_frames_degrades_gracefully() -> None:
    P = np.full((6, 3), 0.01)
    P[1, 0] = P[3, 1] = P[4, 2] = 0.99
    labels = viterbi_monotone(P)
    np.testing.assert_array_equal(labels, [1, 3, 4])
    np.testing.assert_array_equal(viterbi_reference(P), [1, 3, 4])
    for K, T in [(5, 1), (5, 2), (8, 7), (20, 3)]:
        labels = viterbi_monotone(np.random.default_rng(K).random((K, T)))
        assert labels.shape == (T,) and np.all(np.diff(labels) > 0)
        assert labels.min() >= 0 and labels.max() < K


def test_zero_probabilities_are_floored() -> None:
    P = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(viterbi_monotone(P), [0, 1, 1])


def test_long_sequences_match_reference() -> None:
    rng = np.random.default_rng(5)
    for K, T in [(5, 1000), (12, 300), (2, 2000)]:
        P = rng.random((K, T))
        np.testing.assert_array_equal(viterbi_monotone(P), viterbi_reference(P))


@pytest.mark.parametrize(
    ("probs", "match"),
    [
        (np.ones(4), "2-D"),
        (np.ones((2, 3, 4)), "2-D"),
        (np.ones((0, 4)), "at least one"),
        (np.ones((3, 0)), "at least one"),
        (np.array([[0.5, np.nan]]), "NaN"),
        (np.array([[0.5, np.inf]]), "infinite"),
        (np.array([["a", "b"]]), "numeric"),
    ],
)
def test_invalid_input_raises_value_error(probs: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        viterbi_monotone(probs)
    with pytest.raises(ValueError, match=match):
        viterbi_reference(probs)


def test_eps_must_be_positive() -> None:
    with pytest.raises(ValueError, match="eps"):
        viterbi_monotone(np.ones((2, 3)), eps=0.0)
