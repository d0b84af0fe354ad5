"""KID (unbiased MMD^2, cubic polynomial kernel) against torchmetrics and a direct loop over
pairs, plus properties: symmetry, order independence, the subset-average limit, the bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audit.metrics import kid, kid_resampled, kid_subsets, polynomial_kernel, stratified_bootstrap_counts
from audit.stats import bootstrap_distribution

pytestmark = pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance` will save:UserWarning")


class Identity(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def torchmetrics_kid(real: np.ndarray, fake: np.ndarray, subsets: int, subset_size: int, seed: int = 0) -> tuple[float, float]:
    from torchmetrics.image.kid import KernelInceptionDistance

    torch.manual_seed(seed)
    metric = KernelInceptionDistance(feature=Identity(), subsets=subsets, subset_size=subset_size)
    metric.set_dtype(torch.float64)
    metric.update(torch.tensor(real), real=True)
    metric.update(torch.tensor(fake), real=False)
    mean, std = metric.compute()
    return float(mean), float(std)


def loop_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased MMD^2 U-statistic written out pair by pair (Gretton et al., 2012, eq. 3)."""
    d = x.shape[1]
    k = lambda a, b: (float(np.dot(a, b)) / d + 1.0) ** 3
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


@pytest.fixture(scope="module")
def sets() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    mix = rng.normal(size=(16, 16)) / 4
    a = rng.normal(size=(120, 16)) @ mix
    b = rng.normal(loc=0.4, size=(120, 16)) @ (mix + 0.1 * rng.normal(size=(16, 16)))
    return a, b


def test_matches_torchmetrics_on_whole_sets(sets):
    """One subset holding every row: torchmetrics computes exactly the all-pairs statistic."""
    a, b = sets
    expected, _ = torchmetrics_kid(b, a, subsets=1, subset_size=len(a))
    assert kid(a, b, gram_dtype=np.float64) == pytest.approx(expected, rel=1e-10)


def test_is_the_limit_of_torchmetrics_subset_average(sets):
    """Over many random subsets (unequal set sizes), torchmetrics' average converges to `kid`."""
    a, b = sets
    a = a[:90]
    mean, std = torchmetrics_kid(b, a, subsets=400, subset_size=40)
    assert abs(mean - kid(a, b)) < 4 * std / np.sqrt(400), (mean, kid(a, b), std)


def test_matches_loop_over_pairs_with_unequal_sizes(sets):
    a, b = sets
    x, y = a[:23], b[:31]
    assert kid(x, y, gram_dtype=np.float64) == pytest.approx(loop_mmd2(x, y), rel=1e-10)


def test_kernel_matches_torchmetrics_poly_kernel(sets):
    from torchmetrics.image.kid import poly_kernel

    a, b = sets
    np.testing.assert_allclose(polynomial_kernel(a, b), poly_kernel(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-12)


def test_symmetric_and_order_independent(sets):
    a, b = sets
    perm = np.random.default_rng(0).permutation(len(a))
    assert kid(a, b) == pytest.approx(kid(b, a), rel=1e-12)
    assert kid(a[perm], b) == pytest.approx(kid(a, b), rel=1e-10)


def test_same_distribution_near_zero_shifted_distribution_far():
    """Two independent draws of one Gaussian: |KID| is tiny beside a mean shift's KID."""
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    same = kid(x, y)
    shifted = kid(x, y + 1.0)
    assert abs(same) < 0.02 * shifted, (same, shifted)


def test_subsets_of_the_whole_sets_equal_kid(sets):
    a, b = sets
    mean, std = kid_subsets(a, b, subsets=3, subset_size=10_000)
    assert mean == pytest.approx(kid(a, b), rel=1e-10) and std == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("stratified", [False, True])
def test_resampled_equals_plain_bootstrap_of_the_generated_set(sets, stratified):
    a, b = sets
    x, y = a[:40], b[:55]
    strata = np.arange(len(x)) % 4 if stratified else None
    fast = kid_resampled(x, y, stratified_bootstrap_counts(len(x), 30, 7, strata), gram_dtype=np.float64)
    plain = bootstrap_distribution(lambda a: kid(a, y, gram_dtype=np.float64), [x], resamples=30, seed=7, strata=[strata])
    np.testing.assert_allclose(fast, plain, rtol=1e-9, atol=1e-12)


def test_rejects_too_few_rows():
    with pytest.raises(ValueError):
        kid(np.zeros((1, 4)), np.zeros((5, 4)))
