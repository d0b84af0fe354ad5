"""Image corruptions, adversarial attacks, text perturbations and degradation-curve helpers
(audit.robustness): identity at severity 0, determinism, monotone degradation on fixed inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audit.metrics import multinomial_counts
from audit.robustness import curves
from audit.robustness.adversarial import EPSILONS, fgsm, pgd
from audit.robustness.corruptions import CORRUPTIONS, SEVERITIES, corrupt
from audit.robustness.text import OUT_OF_DISTRIBUTION, PERTURBATIONS, perturb

TEXT = ("Once upon a time, there was a little boy named Tim. Tim had a big, orange ball. He loved his ball "
        "very much. One day, Tim met a girl named Sue. Sue had a pretty doll and a red hat. They played in the park "
        "with the dog and the cat, and then they went home together.")


@pytest.fixture(scope="module")
def digits():
    from audit.evaluators import digits_evaluator, digits_reference

    ref = digits_reference()
    return digits_evaluator(), torch.tensor(ref.test_x, dtype=torch.float32), np.asarray(ref.test_y)


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_severity_zero_is_identity_and_output_is_valid(name, digits):
    _, x, _ = digits
    assert torch.equal(corrupt(x, name, 0, seed=3), x)
    for s in SEVERITIES[1:]:
        out = corrupt(x[:32], name, s, seed=3)
        assert out.shape == x[:32].shape and out.dtype == x.dtype
        assert 0 <= out.min() and out.max() <= 1
        assert torch.equal(out, corrupt(x[:32], name, s, seed=3))  # seeded: same call, same output


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_distance_to_clean_grows_with_severity(name, digits):
    _, x, _ = digits
    distances = [float(((corrupt(x, name, s, seed=0) - x) ** 2).mean()) for s in SEVERITIES]
    assert distances[0] == 0.0
    assert all(a < b for a, b in zip(distances, distances[1:])), distances


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_evaluator_accuracy_degrades_with_severity(name, digits):
    """Held-out accuracy is non-increasing in severity (one image in 360 may flip back: tolerance
    0.01) and clearly lower at severity 5. Measured: clean 0.986; at severity 5 noise 0.84, blur
    0.83, occlusion 0.21, rotation/scale 0.11, contrast 0.11."""
    evaluator, x, y = digits
    acc = [float((evaluator.embed(corrupt(x, name, s, seed=0)).predictions == y).mean()) for s in SEVERITIES]
    assert all(b <= a + 0.01 for a, b in zip(acc, acc[1:])), acc
    assert acc[5] < acc[0] - 0.1, acc


def test_unknown_corruption_and_severity_fail_with_names(digits):
    _, x, _ = digits
    with pytest.raises(ValueError, match="valid: gaussian_noise"):
        corrupt(x, "fog", 1)
    with pytest.raises(ValueError, match="severity"):
        corrupt(x, "contrast", 6)


def test_attacks_at_epsilon_zero_change_nothing_and_respect_the_ball(digits):
    evaluator, x, y = digits
    x, labels = x[:64], torch.tensor(y[:64], dtype=torch.long)

    def logits(images):
        return evaluator.features_and_logits(images)[1]

    assert torch.equal(fgsm(logits, x, labels, 0.0), x)
    assert torch.equal(pgd(logits, x, labels, 0.0), x)
    clean = evaluator.embed(x).predictions == y[:64]
    fooled = []
    for eps in EPSILONS[1:]:
        for attack in (fgsm, pgd):
            adv = attack(logits, x, labels, eps)
            assert float((adv - x).abs().max()) <= eps + 1e-6 and 0 <= adv.min() and adv.max() <= 1
        fooled.append(int((clean & (evaluator.embed(pgd(logits, x, labels, eps)).predictions != y[:64])).sum()))
    assert fooled == sorted(fooled) and fooled[-1] > fooled[0], fooled  # PGD success grows with epsilon
    # PGD is at least as strong as FGSM at the same budget
    adv_f, adv_p = fgsm(logits, x, labels, 0.05), pgd(logits, x, labels, 0.05)
    assert (evaluator.embed(adv_p).predictions != y[:64]).sum() >= (evaluator.embed(adv_f).predictions != y[:64]).sum()


@pytest.mark.parametrize("name", list(PERTURBATIONS))
def test_text_perturbation_identity_determinism_and_growth(name):
    assert perturb(TEXT, name, 0, seed=5) == TEXT
    assert perturb(TEXT, name, 3, seed=5) == perturb(TEXT, name, 3, seed=5)
    # over many seeds, the share of changed words grows with severity
    changed = []
    for s in SEVERITIES:
        diffs = []
        for seed in range(40):
            out = perturb(TEXT, name, s, seed)
            a, b = TEXT.split(), out.split()
            diffs.append(sum(u != v for u, v in zip(a, b)) + abs(len(a) - len(b)))
        changed.append(np.mean(diffs))
    assert changed[0] == 0 and all(a < b for a, b in zip(changed, changed[1:])), changed


def test_code_switch_uses_the_lexicon_and_keeps_case():
    out = perturb("The dog and the cat.", "code_switch", 5, seed=0)
    for seed in range(50):
        out = perturb("The dog and the cat. The dog and the cat.", "code_switch", 5, seed)
        if out != "The dog and the cat. The dog and the cat.":
            break
    assert out != "The dog and the cat. The dog and the cat."
    assert set(out.replace(".", "").split()) <= {"The", "El", "dog", "perro", "and", "y", "the", "el", "cat", "gato"}
    assert OUT_OF_DISTRIBUTION["code"] and OUT_OF_DISTRIBUTION["numbers"]


def test_curve_helpers():
    rng = np.random.default_rng(0)
    values = rng.random((50, 2, 6))
    weights = multinomial_counts(50, 100, seed=1)
    assert weights.shape == (100, 50) and (weights.sum(1) == 50).all()
    point, boot = curves.mean_curves(values, weights)
    assert np.allclose(point, values.mean(0)) and boot.shape == (100, 2, 6)
    flat = np.ones((10, 1, 6))
    value, low, high, by_group = curves.summary(*curves.mean_curves(flat, multinomial_counts(10, 20, 0)), ["c"])
    assert value == 1.0 and by_group["by_group"]["c"]["value"] == 1.0
    # normalised area: mean over severities 1.. of curve / curve at 0
    assert np.isclose(curves.normalised_auc(np.array([[2.0, 2, 1, 1, 0, 0]]))[0], 0.4)
    assert curves.mean_curves(values, None)[1] is None
    chart = curves.chart("t", "y", ["a", "b"], range(6), point, boot)
    assert chart["x_label"] == "severity" and [p["x"] for p in chart["series"]["a"]] == [0, 1, 2, 3, 4, 5]
    assert all(p["ci_low"] <= p["ci_high"] for s in chart["series"].values() for p in s)
