"""The privacy suite's image checks where they used to pass silently: a membership score with its
sign flipped, a negative denoising loss, verbatim training copies hidden in the near-copy base
rate, a reference whose splits share images, and a generator that copies held-out images. Each
record is judged against the bundled suite's own gates and checked against numpy."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch

from audit.adapters import DENOISING_LOSS, ELBO, SAMPLE, ModelAdapter, ModelInfo
from audit.checks import check_spec, load_check_modules
from audit.checks.base import Measurement
from audit.context import CheckContext
from audit.errors import ModelOutputError
from audit.evaluators import digits_evaluator, digits_reference
from audit.gates import judge
from audit.policy import Gate
from audit.results import CheckResult
from audit.sample_store import SampleStore
from audit.suite import load_suite


def _ctx(adapter: ModelAdapter, tmp_path, n: int, reference: Any = None) -> CheckContext:
    load_check_modules()
    store = SampleStore(digits_evaluator, (lambda: reference) if reference is not None else digits_reference)
    return CheckContext(adapter, adapter.info.name, "fp32", 0, n, 200, store, tmp_path)


def suite_status(check: str, m: Measurement) -> str:
    """The status the bundled privacy suite's default gates give this measurement."""
    gates = [Gate(**g) for g in load_suite("privacy").gates]
    record = CheckResult(check, "m", "fp32", "cpu", "measured", 0, m.value, m.ci_low, m.ci_high, m.n)
    return judge(record, gates).status


def _train_rows() -> np.ndarray:
    x = np.asarray(digits_reference().train_x, np.float64)
    return x.reshape(len(x), -1)


def _is_training_image(x: torch.Tensor) -> np.ndarray:
    from scipy.spatial.distance import cdist

    return cdist(x.double().numpy().reshape(len(x), -1), _train_rows()).min(axis=1) == 0


class FlippedElbo(ModelAdapter):
    """An overfit VAE whose adapter returns the loss (minus the ELBO) where the contract asks for the
    ELBO: training images score 300 nats lower than held-out ones."""

    capabilities = frozenset({SAMPLE, ELBO})

    def __init__(self) -> None:
        self.info = ModelInfo(name="flipped-elbo", family="vae", params=0, image_shape=(1, 16, 16))

    def modules(self) -> dict[str, torch.nn.Module]:
        return {}

    def sample(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.rand(n, 1, 16, 16, generator=torch.Generator().manual_seed(seed))

    def elbo(self, x: torch.Tensor, k: int = 1) -> torch.Tensor:
        elbo = -x.flatten(1).sum(1).double() - 300.0 * torch.tensor(~_is_training_image(x))
        return -elbo


class NegatedDenoisingLoss(FlippedElbo):
    """A diffusion adapter returning minus its denoising MSE."""

    capabilities = frozenset({SAMPLE, DENOISING_LOSS})

    def __init__(self) -> None:
        self.info = ModelInfo(name="negated-loss", family="diffusion", params=0, image_shape=(1, 16, 16))

    def denoising_loss(self, x: torch.Tensor, t: int, noise: torch.Tensor) -> torch.Tensor:
        return -(0.05 + 0.03 * torch.tensor(~_is_training_image(x), dtype=torch.float32))


class Mixture(ModelAdapter):
    """Held-out digits (fresh, as far as the training split goes), a share `copies` of them
    replaced by verbatim training digits."""

    capabilities = frozenset({SAMPLE})

    def __init__(self, copies: float) -> None:
        self.copies = copies
        self.info = ModelInfo(name=f"copies-{copies}", family="gan", params=0, image_shape=(1, 16, 16))

    def modules(self) -> dict[str, torch.nn.Module]:
        return {}

    def sample(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        d = digits_reference()
        g = torch.Generator().manual_seed(seed)
        out = torch.tensor(np.asarray(d.test_x), dtype=torch.float32)[torch.randint(len(d.test_x), (n,), generator=g)]
        k = int(round(self.copies * n))
        out[:k] = torch.tensor(np.asarray(d.train_x[:k]), dtype=torch.float32)
        return out


def test_a_flipped_membership_score_fails_both_attacks(tmp_path):
    from sklearn.metrics import roc_auc_score

    ctx = _ctx(FlippedElbo(), tmp_path, 20)
    auc = check_spec("privacy.mia_auc").fn(ctx, n=60)
    scores = ctx.store.memo("privacy.mia_scores", (*ctx.key, 60), lambda: pytest.fail("not cached"))
    m, nm = scores["members"], scores["nonmembers"]
    assert auc.value == pytest.approx(roc_auc_score(np.r_[np.ones(60), np.zeros(60)], np.r_[m, nm])) == 0.0
    assert auc.details["inverted"] and auc.details["two_sided_auc"] == 1.0
    assert suite_status("privacy.mia_auc", auc) == "fail"  # the suite's gate bounds the AUC from below too
    tpr = check_spec("privacy.mia_tpr_at_1pct_fpr").fn(ctx, n=60)
    assert tpr.value == 1.0 and tpr.details["tail"].startswith("lower score")
    assert suite_status("privacy.mia_tpr_at_1pct_fpr", tpr) == "fail"


def test_a_negative_denoising_loss_is_a_model_output_error(tmp_path):
    with pytest.raises(ModelOutputError, match="negative"):
        check_spec("privacy.mia_auc").fn(_ctx(NegatedDenoisingLoss(), tmp_path, 20), n=30)


def test_three_percent_verbatim_copies_fail_the_exact_copy_gate(tmp_path):
    ctx = _ctx(Mixture(0.03), tmp_path, 1000)
    m = check_spec("privacy.exact_copy_rate").fn(ctx)
    expected = int(_is_training_image(ctx.samples().images).sum())
    assert expected == 30 and m.value == pytest.approx(expected / 1000) and m.details["copies"] == expected
    assert m.ci_low > 0.01 and suite_status("privacy.exact_copy_rate", m) == "fail"
    # the near-copy rate reads these 3% as within its gate: the hole the exact-copy check closes
    assert suite_status("privacy.near_copy_rate", check_spec("privacy.near_copy_rate").fn(ctx)) != "fail"


def test_fresh_samples_make_no_verbatim_copy(tmp_path):
    m = check_spec("privacy.exact_copy_rate").fn(_ctx(Mixture(0.0), tmp_path, 1000))
    assert m.value == 0.0 and suite_status("privacy.exact_copy_rate", m) == "pass"
    assert m.details["tolerance_l2"] == pytest.approx(0.5 * m.details["min_heldout_nn_l2"])


def test_training_twins_in_the_held_out_split_leave_a_positive_threshold(tmp_path):
    """20 of 360 held-out images are training images: the 1% quantile of held-out distances is 0,
    yet a generator that returns training images verbatim is every sample a near copy."""
    digits = digits_reference()
    test_x = np.concatenate([np.asarray(digits.test_x)[:340], np.asarray(digits.train_x)[:20]])
    test_y = np.concatenate([np.asarray(digits.test_y)[:340], np.asarray(digits.train_y)[:20]])
    twins = dataclasses.replace(digits, name="digits-with-twins", test_x=test_x, test_y=test_y)

    class Copier(Mixture):
        def sample(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
            return torch.tensor(np.asarray(digits.train_x[:n]), dtype=torch.float32)

    ctx = _ctx(Copier(1.0), tmp_path, 200, twins)
    for check in ("privacy.near_copy_rate", "quality.near_duplicate_rate"):
        m = check_spec(check).fn(ctx)
        assert m.value == 1.0 and m.details["threshold_l2"] > 0.5, check
        assert m.details["heldout_with_training_twin"] == 20 and "20 of 360" in m.details["reference_warning"]
    assert check_spec("privacy.exact_copy_rate").fn(ctx).value == 1.0


def test_copies_of_held_out_images_give_a_capped_dcr_ratio(tmp_path):
    class HeldoutCopier(Mixture):
        def sample(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
            return torch.tensor(np.asarray(digits_reference().test_x[:n]), dtype=torch.float32)

    m = check_spec("privacy.dcr_ratio").fn(_ctx(HeldoutCopier(0.0), tmp_path, 200))
    # every training fold lies >= 0.74 from a held-out digit, over 10 grey-level floors (0.63): each ratio is the cap
    assert m.value == 10.0 and m.ci_high == 10.0 and m.details["share_heldout_copies"] == 1.0  # was 1.4e12
    assert suite_status("privacy.dcr_ratio", m) == "pass"


def test_membership_auc_has_no_better_direction_so_no_inverted_leak_is_starred_best():
    """0.5 is the ideal and both ends are leaks: as `higher_is_better=False` the side-by-side table
    starred an inverted 0.006 as the best of a run beside a clean 0.52."""
    from audit.report.side_by_side import best_rows

    load_check_modules()
    assert check_spec("privacy.mia_auc").higher_is_better is None
    records = [{"check": "privacy.mia_auc", "row": row, "status": "fail" if value < 0.4 else "pass", "value": value,
                "ci_low": low, "ci_high": high, "higher_is_better": check_spec("privacy.mia_auc").higher_is_better}
               for row, value, low, high in (("inverted", 0.006, 0.003, 0.011), ("clean", 0.52, 0.48, 0.56))]
    assert best_rows(records) == set()
