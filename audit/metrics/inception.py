"""Inception Score from class probabilities: exp(E_x KL(p(y|x) || p(y)))."""

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
