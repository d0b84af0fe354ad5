"""Coverage and width of fairness.association's share and d intervals on simulated margins with a
known truth, through association_rows (the code the check runs), and the crossed-design variance
against its closed form (benchmarks/association_coverage.py measures the full grid)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from audit.checks.fairness_text import association_rows
from audit.fairness.association import AssociationTest, preference_share, share_cells
from audit.stats import crossed_mean_variance

T, NX, NY = 8, 3, 3


def _test(pairs: int) -> AssociationTest:
    return AssociationTest("sim", "sim", "sim", ("A", "B"), tuple((f"a{i}", f"b{i}") for i in range(pairs)),
                           tuple(f"x{i}" for i in range(NX)), tuple(f"y{i}" for i in range(NY)), ())


def _replicates(pairs: int, cell_sd: float, pair_sd: float, shift: float, reps: int, seed: int):
    """(true share, shares, share CIs, d CIs): margins +-shift + pair x word effect + sentence noise."""
    rng = np.random.default_rng(seed)
    sign = np.r_[np.ones(NX), -np.ones(NY)]
    true = norm.cdf(2 * shift / np.sqrt(2 * (cell_sd**2 + pair_sd**2)))  # P(m(x) > m(y)) over templates and pairs
    test, shares, cis, d_cis = _test(pairs), [], [], []
    for r in range(reps):
        m = shift * sign + cell_sd * rng.standard_normal((T, pairs, NX + NY)) + pair_sd * rng.standard_normal((1, pairs, NX + NY))
        row = association_rows((test,), [m], 500, r)[0]
        shares.append(row["share"])
        cis.append(row["ci"])
        d_cis.append(row["d_ci"])
    return true, np.array(shares), np.array(cis), np.array(d_cis)


def test_share_interval_covers_with_three_pairs_and_a_pair_specific_component():
    """Pair x word effects (a name's own associations) with 3 pairs: the old bootstrap covered ~75%."""
    true, _, cis, _ = _replicates(pairs=3, cell_sd=0.3, pair_sd=1.0, shift=0.0, reps=120, seed=11)
    coverage = ((cis[:, 0] <= true) & (true <= cis[:, 1])).mean()
    assert coverage >= 0.88, coverage


def test_d_interval_rarely_excludes_zero_without_association_and_a_pair_component():
    """No association (s = 0): the population d is 0; the old bootstrap's d interval excluded it ~30% of the time."""
    _, _, _, d_cis = _replicates(pairs=3, cell_sd=0.3, pair_sd=1.0, shift=0.0, reps=120, seed=12)
    excludes = ~((d_cis[:, 0] <= 0) & (0 <= d_cis[:, 1]))
    assert excludes.mean() <= 0.10, excludes.mean()


def test_share_interval_is_not_inflated_with_independent_noise():
    """Independent sentence noise, 6 pairs: coverage near nominal and the mean width within 1.4 x the
    width of a 95% normal interval from the true sd (the sd of the share over replicates); the old
    bootstrap counted the residual term two to three times (~1.55 x here)."""
    true, shares, cis, _ = _replicates(pairs=6, cell_sd=1.0, pair_sd=0.0, shift=0.3, reps=150, seed=13)
    coverage = ((cis[:, 0] <= true) & (true <= cis[:, 1])).mean()
    ratio = (cis[:, 1] - cis[:, 0]).mean() / (3.92 * shares.std(ddof=1))
    assert coverage >= 0.9, coverage
    assert ratio <= 1.4, ratio


def test_crossed_variance_is_the_two_way_anova_estimator():
    """Against the mean squares written out cell by cell (Satterthwaite df included)."""
    rng = np.random.default_rng(3)
    r, c = 8, 4
    cells = rng.normal(size=(r, c)) + rng.normal(0, 2, size=(1, c)) + rng.normal(0, 2, size=(r, 1))
    g = cells.mean()
    ms_r = c * sum((cells[i].mean() - g) ** 2 for i in range(r)) / (r - 1)
    ms_c = r * sum((cells[:, j].mean() - g) ** 2 for j in range(c)) / (c - 1)
    ms_e = sum((cells[i, j] - cells[i].mean() - cells[:, j].mean() + g) ** 2 for i in range(r) for j in range(c)) / ((r - 1) * (c - 1))
    assert ms_r > ms_e and ms_c > ms_e  # both components present: (MS_r + MS_c - MS_e) / rc
    var, df = crossed_mean_variance(cells)
    assert var == pytest.approx((ms_r + ms_c - ms_e) / (r * c), rel=1e-12)
    expected_df = (ms_r + ms_c - ms_e) ** 2 / (ms_r**2 / (r - 1) + ms_c**2 / (c - 1) + ms_e**2 / ((r - 1) * (c - 1)))
    assert df == pytest.approx(expected_df, rel=1e-12)
    # a column effect alone: the estimator is MS_c / rc, the variance of the column means / c, with c - 1 df
    cols = np.tile(rng.normal(size=(1, c)), (r, 1)) + 1e-3 * rng.normal(size=(r, c))
    var, df = crossed_mean_variance(cols)
    ms_r = c * cols.mean(axis=1).var(ddof=1)
    ms_e = ((cols - cols.mean(axis=1, keepdims=True) - cols.mean(axis=0) + cols.mean()) ** 2).sum() / ((r - 1) * (c - 1))
    assert ms_r < ms_e
    assert var == pytest.approx(cols.mean(axis=0).var(ddof=1) / c, rel=1e-12) and df == c - 1
    assert crossed_mean_variance(np.full((4, 3), 0.75)) == (0.0, float("inf"))


def test_share_cells_average_to_the_preference_share_and_a_constant_table_has_a_point_interval():
    m = np.random.default_rng(4).normal(size=(T, 4, NX + NY))
    assert share_cells(m, NX).mean() == pytest.approx(preference_share(m, NX), abs=1e-12)
    sure = np.concatenate([np.ones((T, 4, NX)), -np.ones((T, 4, NY))], axis=2)  # every unit stereotyped
    row = association_rows((_test(4),), [sure], 500, 0)[0]
    assert row["share"] == 1.0 and row["ci"] == (1.0, 1.0)
    assert all(np.isnan(association_rows((_test(4),), [m], 0, 0)[0]["ci"]))  # bootstrap=0: no interval
