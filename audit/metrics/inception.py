"""Inception Score from class probabilities: exp(E_x KL(p(y|x) || p(y))).

The field reports the mean (and standard deviation) over 10 equal splits of the samples
(Salimans et al., 2016; torch-fidelity's and torchmetrics' `splits=10`): `inception_score_splits`.
Each split estimates p(y) from its own N/10 samples, so the split score is lower than the score
of all N at once (`inception_score_from_logits`, one split); a number placed beside a paper's
must use the splits.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax


def inception_score_from_logits(logits: np.ndarray) -> float:
    """IS of [N, K] logits (one split); ranges from 1 to K."""
    log_p = log_softmax(np.asarray(logits, dtype=np.float64), axis=1)
    p = np.exp(log_p)
    log_marginal = np.log(p.mean(axis=0) + 1e-300)
    kl = (p * (log_p - log_marginal)).sum(axis=1)
    return float(np.exp(kl.mean()))


IS_SPLITS = 10
"""Splits of the field's Inception Score."""


def inception_score_splits(logits: np.ndarray, splits: int = IS_SPLITS) -> np.ndarray:
    """IS of each of `splits` consecutive, equal-as-possible parts of [N, K] logits (rows i*N//splits
    to (i+1)*N//splits, torch-fidelity's boundaries). The field's value is their mean. Callers
    shuffle first if the rows are ordered (the sample store's class-balanced order is already mixed
    in every split)."""
    logits = np.asarray(logits, dtype=np.float64)
    n = len(logits)
    if not 1 <= splits <= n:
        raise ValueError(f"Inception Score needs 1 <= splits <= N, got {splits} splits of {n} rows")
    return np.array([inception_score_from_logits(logits[i * n // splits : (i + 1) * n // splits]) for i in range(splits)])
