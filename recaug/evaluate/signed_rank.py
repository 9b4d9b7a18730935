"""The Wilcoxon signed-rank test over seeds, exact and vectorised over thousands of rows at once.

``scipy.stats.wilcoxon`` handles a row with tied or zero deltas by a permutation test that computes the statistic
in Python once per sign pattern and row: a 10-seed run's ~1,000 rows (deterministic models tie often) took ~290
CPU-s per significance table, several times the cost of all the run's fits. The same exact null distribution is a
matrix product here: every row's ranks times every sign pattern (2**n of them), in row chunks of bounded memory.
"""

from __future__ import annotations

import itertools

import numpy as np

EXACT_MAX_N = 13  # scipy's own limit for exact enumeration with ties (2**13 patterns); above it: scipy (fast paths)
CHUNK_CELLS = 4_000_000  # rows x patterns per chunk: ~32 MB of float64


def signed_rank_p(deltas: np.ndarray) -> np.ndarray:
    """Two-sided signed-rank p-value per row of ``deltas`` (rows x n, no NaN, no zeros: drop them first, as
    Wilcoxon's ``zero_method="wilcox"`` does).

    Conditional on the row's absolute values (average ranks for ties), every sign pattern is equally likely under
    the null; p is the share of patterns whose rank sum lies at least as far from its mean n(n+1)/4 as the
    observed one. The null is symmetric, so this equals scipy's ``2 * min(P(T <= t), P(T >= t))``, clipped at 1.
    """
    from scipy import stats

    deltas = np.atleast_2d(np.asarray(deltas, dtype=np.float64))
    m, n = deltas.shape
    if m == 0 or n == 0:
        return np.full(m, np.nan)
    if n > EXACT_MAX_N:  # scipy is fast here: an exact table without ties, the normal approximation with them
        return np.asarray(stats.wilcoxon(deltas, axis=1).pvalue, dtype=np.float64)
    ranks = stats.rankdata(np.abs(deltas), axis=1)
    centre = n * (n + 1) / 4
    observed = np.abs((ranks * (deltas > 0)).sum(axis=1) - centre)
    patterns = np.array(list(itertools.product((0.0, 1.0), repeat=n)))  # (2**n, n)
    out = np.empty(m)
    step = max(1, CHUNK_CELLS // len(patterns))
    for start in range(0, m, step):
        part = slice(start, start + step)
        spread = np.abs(ranks[part] @ patterns.T - centre)  # (rows, 2**n): each pattern's distance from the mean
        out[part] = (spread >= observed[part, None] - 1e-9).mean(axis=1)  # ranks are halves: sums are exact
    return out
