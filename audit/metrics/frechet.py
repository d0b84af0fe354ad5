"""Fréchet distance between Gaussians fitted to two feature sets (FID's maths), in float64.

tr(sqrt(S1 S2)) is computed as the sum of square roots of the eigenvalues of the symmetric
PSD matrix sqrt(S1) S2 sqrt(S1): two symmetric eigendecompositions, no general `sqrtm`.
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


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr(sqrt(sigma1 @ sigma2)) for symmetric PSD matrices."""
    root = _psd_sqrt(np.asarray(sigma1, dtype=np.float64))
    inner = root @ np.asarray(sigma2, dtype=np.float64) @ root
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
