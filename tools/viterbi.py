"""Monotone Viterbi: assign every sampled frame to one stage of an ordered stage list.

docs/architecture.md, "Localize": with cost ``C[j, t] = -log(max(P[j, t], eps))`` the recurrence

    D[0, 0] = C[0, 0];  D[j, 0] = inf (j > 0)
    D[j, t] = C[j, t] + min(D[j, t-1], D[j-1, t-1])

backtracked from ``(K-1, T-1)`` gives the labelling that minimises ``sum_t C[label[t], t]`` over
all labellings that start in stage 0, end in stage K-1, never go back and never skip a stage.

Why the fast version loops over stages, not frames: a loop over T with one small numpy op per
frame costs about as much per frame as the plain double loop (numpy's per-call overhead
dominates when K is ~5), so it cannot be much faster than :func:`viterbi_reference`. Instead each
stage row is solved in one pass over all frames: a path that enters stage j at frame s and stays
until t costs ``D[j-1, s-1] + Q[t] - Q[s-1]`` (Q = running sum of row j), so
``D[j, t] = Q[t] + cummin_s(D[j-1, s-1] - Q[s-1])`` — a ``cumsum`` and a
``minimum.accumulate``: K numpy passes of length T, no Python loop over K×T cells.

Why costs are integers: cumulative sums add in a different order than the recurrence, and float
rounding would then break exact ties differently from the reference. Costs are truncated to
integers in units of 2**-20 (~1e-6, far below anything CLIP scores can resolve), so all sums are
exact, both implementations compute identical tables and make identical choices, and ties are
deterministic: a frame stays in the later stage (stage boundaries as early as possible); among
equally good stages in the K > T case the earlier one wins.

K > T (more stages than frames) cannot be labelled without skipping stages, and the plain
recurrence has no finite path. We then give every frame its own stage (labels strictly
increasing, so as many stages as possible — T of them — get a frame) and choose which T stages
by the same minimum total cost; the first and last stage are not forced. Stages that get no
frame are simply absent from the result.
"""

from __future__ import annotations

import numpy as np

#: Costs are integers in units of 2**-20 (about 1e-6).
_SCALE = float(2**20)
#: Stands in for +inf in integer tables; far above any real path cost, far below overflow.
_INF = 2**62
#: float32 cannot hold smaller probabilities; a smaller ``eps`` is raised to this.
_MIN_EPS = 1e-30


def _costs(probs: np.ndarray, eps: float) -> np.ndarray:
    """Validate ``probs``; return integer costs ``int(-log(max(P, eps)) * 2**20)`` (K×T)."""
    P = np.asarray(probs)
    if P.ndim != 2:
        raise ValueError(f"probs must be a 2-D (stages × frames) array, got shape {P.shape}")
    if P.shape[0] == 0 or P.shape[1] == 0:
        raise ValueError(f"probs must have at least one stage and one frame, got shape {P.shape}")
    if P.dtype.kind not in "biuf":
        raise ValueError(f"probs must be a real numeric array, got dtype {P.dtype}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    # float32 log: the result is rounded to ~1e-6 anyway, and it is 3x faster than float64.
    # NaN survives np.maximum and the log, +inf gives -inf, so one finiteness check suffices.
    C = P.astype(np.float32)  # a copy: updated in place below
    np.maximum(C, np.float32(max(eps, _MIN_EPS)), out=C)
    np.log(C, out=C)
    if not np.isfinite(C).all():
        what = "NaN" if np.isnan(C).any() else "infinite values"
        raise ValueError(f"probs contains {what}")
    np.multiply(C, np.float32(-_SCALE), out=C)
    return C.astype(np.int64)  # truncation: any fixed rule works, both versions share it


def _monotone_fast(C: np.ndarray) -> np.ndarray:
    """K ≤ T: the module docstring's recurrence (docs/architecture.md, "Localize"), one
    vectorised pass per stage row."""
    K, T = C.shape
    Q = np.add.accumulate(C, axis=1)  # Q[j, t] = C[j, 0] + ... + C[j, t]
    # V[j-1, s-1] = D[j-1, s-1] - Q[j, s-1] for s >= 1: cost of the path entering stage j at
    # frame s, minus the part of row j it has not paid yet (entering at s = 0 is impossible
    # for j >= 1). With D[j-1] = Q[j-1] + cummin(V[j-2]) shifted by one frame, each row is
    # a cumulative minimum plus a precomputed row difference: two numpy calls.
    V = np.empty((K - 1, T - 1), dtype=np.int64)
    np.subtract(Q[0, :-1], Q[1, :-1], out=V[0])  # D[0] = Q[0]: stage 0 starts at frame 0
    if K > 2:
        dQ = Q[1:-1, 1:-1] - Q[2:, 1:-1]
        for j in range(2, K):
            # D[j-1, s-1] = Q[j-1, s-1] + min(V[j-2, :s-1]), defined for s >= 2
            V[j - 1, 0] = _INF
            np.add(np.minimum.accumulate(V[j - 2, :-1]), dQ[j - 2], out=V[j - 1, 1:])
    # Backtrack: the entry frame of stage j is the FIRST s <= t_end minimising V[j-1, s-1]
    # (np.argmin returns the first), i.e. on a tie the frame stays in the later stage, like
    # the reference's strict "<" on moves.
    labels = np.zeros(T, dtype=np.int64)
    t_end = T - 1
    for j in range(K - 1, 0, -1):
        s = int(np.argmin(V[j - 1, :t_end])) + 1
        labels[s] = 1  # stage j starts here; the running sum below turns marks into labels
        t_end = s - 1
    return np.add.accumulate(labels, out=labels)


def _first_argmin_prefix(values: np.ndarray) -> np.ndarray:
    """``out[i]`` = index of the first minimum of ``values[: i + 1]``."""
    n = values.shape[0]
    prev_min = np.empty(n, dtype=values.dtype)
    prev_min[0] = values[0]  # out[0] is 0 whatever values[0] is
    if n > 1:
        prev_min[1:] = np.minimum.accumulate(values)[:-1]
    return np.maximum.accumulate(np.where(values < prev_min, np.arange(n), 0))


def _skipping_fast(C: np.ndarray) -> np.ndarray:
    """K > T: strictly increasing labels of minimum cost; loops over the (few) frames."""
    K, T = C.shape
    E = C[:, 0].copy()
    back: list[np.ndarray] = []
    for t in range(1, T):
        arg = np.zeros(K, dtype=np.int64)
        arg[1:] = _first_argmin_prefix(E)[:-1]  # best earlier stage i < j (first on ties)
        before = np.empty(K, dtype=np.int64)
        before[0] = _INF
        before[1:] = np.minimum.accumulate(E)[:-1]
        back.append(arg)
        E = C[:, t] + before
    labels = np.empty(T, dtype=np.int64)
    j = int(np.argmin(E))
    for t in range(T - 1, 0, -1):
        labels[t] = j
        j = int(back[t - 1][j])
    labels[0] = j
    return labels


def viterbi_monotone(probs: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Best in-order stage label for each frame of a K×T probability matrix.

    Returns an int64 array of length T with non-decreasing labels in ``[0, K)``. For K ≤ T every
    stage gets at least one contiguous run of frames, the first frame is in stage 0 and the last
    in stage K-1 (docs/architecture.md, "Localize"). For K > T each frame gets a distinct
    stage (module docstring).
    Raises ``ValueError`` for a non-2-D or empty matrix, NaN or infinite entries, ``eps <= 0``.
    """
    C = _costs(probs, eps)
    K, T = C.shape
    if K == 1:
        return np.zeros(T, dtype=np.int64)
    if K > T:
        return _skipping_fast(C)
    return _monotone_fast(C)


def viterbi_reference(probs: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The same result as :func:`viterbi_monotone`, written as the plain cell-by-cell loop.

    Kept as the readable specification for tests and the benchmark; O(K·T) Python steps
    (O(K²·T) when K > T). Same integer costs and tie rules, so labels are identical.
    """
    C = _costs(probs, eps)
    K, T = C.shape
    if K > T:
        E = np.full((K, T), _INF, dtype=np.int64)
        B = np.zeros((K, T), dtype=np.int64)
        for j in range(K):
            E[j, 0] = C[j, 0]
        for t in range(1, T):
            for j in range(K):
                best, best_i = _INF, 0
                for i in range(j):
                    if E[i, t - 1] < best:
                        best, best_i = E[i, t - 1], i
                E[j, t] = C[j, t] + best
                B[j, t] = best_i
        labels = np.empty(T, dtype=np.int64)
        j = int(np.argmin(E[:, T - 1]))
        for t in range(T - 1, -1, -1):
            labels[t] = j
            j = int(B[j, t])
        return labels

    D = np.full((K, T), _INF, dtype=np.int64)
    D[0, 0] = C[0, 0]
    for t in range(1, T):
        for j in range(K):
            stay = D[j, t - 1]
            move = D[j - 1, t - 1] if j > 0 else _INF
            D[j, t] = C[j, t] + min(stay, move)
    labels = np.empty(T, dtype=np.int64)
    j = K - 1
    for t in range(T - 1, 0, -1):
        labels[t] = j
        if j > 0 and D[j - 1, t - 1] < D[j, t - 1]:
            j -= 1
    labels[0] = j
    return labels
