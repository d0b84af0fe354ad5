"""Fréchet distance between Gaussians fitted to two feature sets (FID's maths), in float64.

tr(sqrt(S1 S2)) is the sum of square roots of the eigenvalues of S1 S2, which equal those of a
symmetric PSD matrix: L^T S2 L with S1 = L L^T (Cholesky; the fast path: one factorization, two
triangular products, one values-only symmetric eigensolve) or, when S1 is singular (dead
features make Cholesky fail), sqrt(S1) S2 sqrt(S1) from a symmetric eigendecomposition. Neither
needs the general, complex-valued `scipy.linalg.sqrtm` (benchmarks/fid_vs_sqrtm.py).
"""

from __future__ import annotations

import numpy as np


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance of [N, D] features, in float64."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"features must be [N>=2, D], got shape {x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def _clip_roundoff(eigenvalues: np.ndarray) -> np.ndarray:
    """Zero eigenvalues at round-off level. Singular covariances (e.g. dead ReLU features) give
    eigenvalues of +-1e-13 whose square roots (~3e-7 each) would otherwise add up."""
    tolerance = len(eigenvalues) * np.finfo(np.float64).eps * max(float(np.abs(eigenvalues).max()), 1e-300)
    return np.where(eigenvalues > tolerance, eigenvalues, 0.0)


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((sigma + sigma.T) / 2)
    return (v * np.sqrt(_clip_roundoff(w))) @ v.T


def _cholesky_inner(sigma1: np.ndarray, sigma2: np.ndarray) -> np.ndarray | None:
    """L^T S2 L for S1 = L L^T, or None when S1 is not positive definite."""
    from scipy.linalg import blas

    try:
        lower = np.linalg.cholesky((sigma1 + sigma1.T) / 2)
    except np.linalg.LinAlgError:
        return None
    right = blas.dtrmm(1.0, lower, sigma2, side=1, lower=1)  # S2 L
    return blas.dtrmm(1.0, lower, right, side=0, lower=1, trans_a=1)  # L^T (S2 L)


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, method: str = "auto") -> float:
    """tr(sqrt(sigma1 @ sigma2)) for symmetric PSD matrices; `method` is auto, cholesky or eigh."""
    sigma1 = np.asarray(sigma1, dtype=np.float64)
    sigma2 = np.asarray(sigma2, dtype=np.float64)
    if method not in ("auto", "cholesky", "eigh"):
        raise ValueError(f"unknown method '{method}'; valid: auto, cholesky, eigh")
    inner = _cholesky_inner(sigma1, sigma2) if method != "eigh" else None
    if inner is None:
        if method == "cholesky":
            raise np.linalg.LinAlgError("sigma1 is not positive definite")
        root = _psd_sqrt(sigma1)
        inner = root @ sigma2 @ root
    eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2)
    return float(np.sqrt(_clip_roundoff(eigenvalues)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr(sqrt(S1 S2))."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt_product(sigma1, sigma2)
    return float(value)


def fid_from_features(a: np.ndarray, b: np.ndarray) -> float:
    """FID between two feature sets [N, D] and [M, D]."""
    return frechet_distance(*feature_stats(a), *feature_stats(b))
