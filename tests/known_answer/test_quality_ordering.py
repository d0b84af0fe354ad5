"""Known answers for the distribution and diversity checks on the bundled models.

Every check runs, through the same contexts and run-wide store a run uses, on uniform noise,
`gan-collapsed`, the clean `gan`, `vae`, `vae-memorized` and the 360 held-out real images
(served by an adapter, so they are scored exactly like a model), all at n = 360 so that
size-dependent metrics (SWD, coverage, recall) compare at equal n.

Measured at n=360, seed 0 (values; see the final report for CIs):
            noise   collapsed  gan     vae     memorized  held-out
  KID       5.58e5  5.62e5     1.9e4   2.6e3   1.9e4      -7.3e3
  SWD pix   0.245   0.0998     0.0254  0.0185  0.0356     0.0128
  SWD feat  4.32    3.74       0.617   0.500   1.01       0.334
  recall    0.007   0.067      0.729   0.967   0.213      0.973
  coverage  0.033   0.201      0.576   0.605   0.191      0.636
  C2ST acc  0.981   0.883      0.622   0.543   0.801      0.490
  near-dup  0       0.022      0       0.011   1.0        0.011
KID does not order noise and `gan-collapsed` (within 1% of each other, overlapping CIs: the
cubic kernel is dominated by feature norms), and the class-histogram KL finds noise (mostly one
class) closer to the real histogram than the collapsed GAN; both are far above the clean GAN,
and the tests assert those true relations.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from audit.adapters import SAMPLE, ModelAdapter, ModelInfo
from audit.adapters.loading import load_model
from audit.checks import check_spec, load_check_modules
from audit.context import CheckContext
from audit.evaluators import digits_evaluator, digits_reference
from audit.sample_store import SampleStore

N = 360
BOOTSTRAP = 200
MODELS = ("noise", "gan-collapsed", "gan", "vae", "vae-memorized", "real")
CHECKS = (
    "quality.kid", "quality.swd_pixel", "quality.swd_feature", "quality.precision", "quality.recall", "quality.density",
    "quality.coverage", "quality.c2st", "quality.diversity", "quality.near_duplicate_rate", "quality.class_coverage",
    "quality.class_entropy", "quality.class_kl",
)


class HeldOutReal(ModelAdapter):
    """The reference's held-out images as if a model had generated them."""

    capabilities = frozenset({SAMPLE})

    def __init__(self, images: np.ndarray) -> None:
        self.images = images
        self.info = ModelInfo(name="held-out-real", family="gan", params=0, image_shape=(1, 16, 16))

    def modules(self) -> dict[str, torch.nn.Module]:
        return {}

    def sample(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        assert n <= len(self.images)
        return torch.tensor(np.asarray(self.images[:n]))


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory):
    from fixture_models import noise

    load_check_modules()
    store = SampleStore(digits_evaluator, digits_reference)
    adapters = {"noise": noise(), "real": HeldOutReal(store.reference.test_x)}
    results: dict[str, dict[str, object]] = {}
    for model in MODELS:
        adapter = adapters.get(model) or load_model(model, "fp32", "cpu")
        ctx = CheckContext(adapter, model, "fp32", 0, N, BOOTSTRAP, store, tmp_path_factory.mktemp("artifacts"))
        results[model] = {c.split(".", 1)[1]: check_spec(c).fn(ctx) for c in CHECKS}
    return store, results


def values(results, metric: str) -> dict[str, float]:
    return {m: results[m][metric].value for m in MODELS}


def test_every_value_has_a_finite_ci_around_it(measured):
    _, results = measured
    for model in MODELS:
        for metric, m in results[model].items():
            assert np.isfinite([m.value, m.ci_low, m.ci_high]).all(), (model, metric)
            assert m.ci_low <= m.value + 1e-12 and m.value <= m.ci_high + 1e-12, (model, metric, m)
            assert m.n == (2 * N if metric == "c2st" else N)


@pytest.mark.parametrize("metric", ["recall", "coverage"])
def test_higher_is_better_order_noise_collapsed_gan_real(measured, metric):
    _, results = measured
    v = values(results, metric)
    assert v["noise"] < v["gan-collapsed"] < v["gan"] < v["real"], v
    r = results
    # CI-separated where the measured gaps are large
    assert r["noise"][metric].ci_high < r["gan-collapsed"][metric].ci_low
    assert r["gan-collapsed"][metric].ci_high < r["gan"][metric].ci_low


@pytest.mark.parametrize("metric", ["swd_pixel", "swd_feature", "c2st"])
def test_lower_is_better_order_noise_collapsed_gan_real(measured, metric):
    _, results = measured
    v = values(results, metric)
    assert v["noise"] > v["gan-collapsed"] > v["gan"] > v["real"], v
    r = results
    assert r["noise"][metric].ci_low > r["gan-collapsed"][metric].ci_high
    assert r["gan-collapsed"][metric].ci_low > r["gan"][metric].ci_high


def test_swd_pixel_and_c2st_separate_gan_from_real(measured):
    _, r = measured
    for metric in ("swd_pixel", "c2st"):
        assert r["gan"][metric].ci_low > r["real"][metric].ci_high, metric


def test_kid_real_below_gan_far_below_noise_and_collapsed(measured):
    """KID orders real < gan << {noise, collapsed}; it does not order noise vs collapsed."""
    _, r = measured
    v = values(r, "kid")
    assert v["real"] < v["gan"], v
    assert min(v["noise"], v["gan-collapsed"]) > 10 * v["gan"], v
    assert min(r["noise"]["kid"].ci_low, r["gan-collapsed"]["kid"].ci_low) > r["gan"]["kid"].ci_high
    assert r["real"]["kid"].ci_low < 0 < r["real"]["kid"].ci_high  # unbiased: real vs real straddles 0


def test_c2st_cannot_tell_held_out_real_from_train_but_tells_noise(measured):
    _, r = measured
    assert r["real"]["c2st"].details["p_value"] > 0.05
    assert r["real"]["c2st"].ci_low < 0.5 < r["real"]["c2st"].ci_high
    assert r["noise"]["c2st"].details["p_value"] < 1e-50


def test_gan_collapsed_flagged_by_class_coverage_and_recall(measured):
    _, r = measured
    assert r["gan-collapsed"]["class_coverage"].value == pytest.approx(0.3)  # classes 1, 4, 7
    assert sorted(r["gan-collapsed"]["class_coverage"].details["missing_classes"]) == [0, 2, 3, 5, 6, 8, 9]
    assert r["gan"]["class_coverage"].ci_low == 1.0
    # i.i.d. held-out images (classes of 33-37 of 360, threshold 9): the interval of the mean over
    # fresh sets allows each class an expected count as low as ~23, which a fresh set misses ~0.5% of the time
    assert r["real"]["class_coverage"].value == 1.0 and r["real"]["class_coverage"].ci_low > 0.99
    assert r["gan-collapsed"]["recall"].ci_high < 0.25 * r["gan"]["recall"].value


def test_class_histogram_entropy_and_kl(measured):
    _, r = measured
    e = values(r, "class_entropy")
    assert e["noise"] < e["gan-collapsed"] < e["gan"], e
    assert min(e["gan"], e["real"]) > 0.99
    assert r["gan-collapsed"]["class_entropy"].ci_high < 0.6  # 3 of 10 classes: log 3 / log 10 = 0.48
    kl = values(r, "class_kl")
    assert max(r["gan"]["class_kl"].ci_high, r["real"]["class_kl"].ci_high) < 0.05, kl
    assert min(r["noise"]["class_kl"].ci_low, r["gan-collapsed"]["class_kl"].ci_low) > 1.0, kl


def test_vae_memorized_flagged_by_near_duplicates_clean_vae_not(measured):
    _, r = measured
    assert r["vae-memorized"]["near_duplicate_rate"].ci_low > 0.9
    assert r["vae"]["near_duplicate_rate"].ci_high < 0.05
    assert r["gan"]["near_duplicate_rate"].ci_high < 0.05
    # by the threshold's definition held-out real images score about its 1% quantile
    assert r["real"]["near_duplicate_rate"].value <= 0.02


def test_diversity_order(measured):
    _, r = measured
    v = values(r, "diversity")
    assert v["noise"] < v["gan-collapsed"] < v["gan"], v
    assert r["gan-collapsed"]["diversity"].ci_high < r["real"]["diversity"].ci_low


def test_noise_has_lower_precision_and_density_than_gan(measured):
    _, r = measured
    for metric in ("precision", "density"):
        assert r["noise"][metric].ci_high < r["gan"][metric].ci_low, metric


def test_reported_prdc_and_near_duplicates_equal_independent_computations(measured):
    from prdc import compute_prdc
    from scipy.spatial.distance import cdist

    store, r = measured
    fake = store._embeddings[("gan", "fp32", 0, N)].features
    expected = compute_prdc(real_features=store.real_embedding("train").features, fake_features=fake, nearest_k=5)
    for metric in ("precision", "recall", "density", "coverage"):
        assert r["gan"][metric].value == pytest.approx(float(expected[metric]), abs=1e-12), metric
    train = store.reference.train_x.reshape(-1, 256).astype(np.float64)
    heldout_nn = cdist(store.reference.test_x.reshape(-1, 256).astype(np.float64), train).min(axis=1)
    threshold = np.percentile(heldout_nn, 1)
    images = store._samples[("vae-memorized", "fp32", 0, N)].images.numpy().reshape(N, 256).astype(np.float64)
    assert r["vae-memorized"]["near_duplicate_rate"].value == pytest.approx((cdist(images, train).min(axis=1) < threshold).mean())


def test_shared_intermediates_computed_once(measured):
    """Four PRDC checks and diversity share per-model k-NN work; reference work is run-wide."""
    store, _ = measured
    per_model = ("distribution.manifolds", "distribution.prdc_bootstrap", "distribution.fake_feature_distances", "distribution.pixel_nn_train")
    for name in per_model:
        assert store.memo_calls[name] == len(MODELS), name
    for name in ("distribution.real_knn_radii", "distribution.real_poly_kernel_sum", "distribution.heldout_pixel_nn_train"):
        assert store.memo_calls[name] == 1, name
    assert store.generate_calls == len(MODELS) and store.embed_calls == len(MODELS)
