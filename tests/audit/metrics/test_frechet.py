"""Fréchet distance against independent computations (scipy sqrtm, torchmetrics) and properties."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from audit.metrics import feature_stats, fid_from_features, frechet_distance


def scipy_fid(a: np.ndarray, b: np.ndarray) -> float:
    """The textbook formula with scipy's general matrix square root (pytorch-fid's approach)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = covmean.real if np.iscomplexobj(covmean) else covmean
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.fixture(scope="module")
def features() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(32, 32))
    a = rng.normal(size=(600, 32)) @ mix
    b = rng.normal(loc=0.3, size=(500, 32)) @ (mix + 0.2 * rng.normal(size=(32, 32)))
    return a, b


def test_matches_scipy_sqrtm(features):
    a, b = features
    assert fid_from_features(a, b) == pytest.approx(scipy_fid(a, b), rel=1e-6)


def test_matches_torchmetrics_fid(features):
    from torchmetrics.image.fid import FrechetInceptionDistance

    class Identity(torch.nn.Module):
        num_features = 32

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    a, b = features
    metric = FrechetInceptionDistance(feature=Identity(), normalize=True)
    metric.set_dtype(torch.float64)
    metric.update(torch.tensor(b), real=True)
    metric.update(torch.tensor(a), real=False)
    assert fid_from_features(a, b) == pytest.approx(float(metric.compute()), rel=1e-6)


def test_identical_sets_give_zero(features):
    a, _ = features
    assert abs(fid_from_features(a, a)) < 1e-8


def test_symmetric(features):
    a, b = features
    assert fid_from_features(a, b) == pytest.approx(fid_from_features(b, a), rel=1e-10)


def test_known_gaussians_closed_form():
    """Diagonal covariances: FID = |mu1-mu2|^2 + sum (sqrt(s1) - sqrt(s2))^2."""
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 1.0, 0.25])
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 2.0])
    expected = 9.0 + ((np.sqrt([1, 4, 9]) - np.sqrt([4, 1, 0.25])) ** 2).sum()
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-12)


def test_feature_stats_is_float64_and_unbiased():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    mu, sigma = feature_stats(x)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64), rowvar=False, ddof=1))


def test_rejects_too_few_rows():
    with pytest.raises(ValueError):
        feature_stats(np.zeros((1, 4)))


def test_dead_features_change_nothing(features):
    """Constant-zero features (dead ReLU units) add nothing to FID, exactly."""
    a, b = features
    pad = lambda x: np.concatenate([x, np.zeros((len(x), 40))], axis=1)
    assert fid_from_features(pad(a), pad(b)) == pytest.approx(fid_from_features(a, b), rel=1e-9)


@pytest.mark.parametrize("method", ["cholesky", "eigh"])
def test_both_trace_paths_match_scipy_sqrtm(features, method):
    """The fast Cholesky path and the eigh fallback each agree with scipy on full-rank covariances."""
    from audit.metrics.frechet import trace_sqrt_product

    a, b = features
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = np.trace(scipy.linalg.sqrtm(s1 @ s2)).real
    assert trace_sqrt_product(s1, s2, method=method) == pytest.approx(expected, rel=1e-9)


def test_singular_covariance_falls_back_from_cholesky(features):
    """Dead features make S1 singular: Cholesky refuses, and `auto` still gives the right trace."""
    from audit.metrics.frechet import trace_sqrt_product

    a, b = features
    pad = lambda x: np.concatenate([x, np.zeros((len(x), 5))], axis=1)
    s1, s2 = np.cov(pad(a), rowvar=False), np.cov(pad(b), rowvar=False)
    with pytest.raises(np.linalg.LinAlgError):
        trace_sqrt_product(s1, s2, method="cholesky")
    expected = np.trace(scipy.linalg.sqrtm(np.cov(a, rowvar=False) @ np.cov(b, rowvar=False))).real
    assert trace_sqrt_product(s1, s2) == pytest.approx(expected, rel=1e-9)
