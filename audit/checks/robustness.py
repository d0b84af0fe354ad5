"""Robustness checks: degradation curves under corruption, latent stability, adversarial attacks
on the evaluator, and language-model robustness to text perturbations and paraphrased prompts.

Every curve is reported in `details["charts"]` (x = severity 0..5, one series per corruption,
95% bootstrap CIs) and summarised by the normalised area under it (audit.robustness.curves):
the mean over severities 1..5 of the curve relative to severity 0, averaged over corruptions.
Severity 0 is the identity, so the severity-0 point is the clean value exactly.

Design decisions:
- `robustness.evaluator_accuracy` corrupts the *model's own samples* (the run's shared sample
  set) and measures the evaluator's agreement with the label each sample was generated for
  (conditional models), or with the evaluator's own prediction on the clean sample (unconditional
  models, e.g. the VAE: its severity-0 agreement is 1 by construction). The evaluator's accuracy
  on corrupted real digits is a property of the evaluator alone and is reported beside it in
  details as `heldout_real` (same corruptions, same seeds), so a reader can tell a model whose
  samples are fragile from an evaluator that is.
  The ratio to severity 0 is meaningful only when the clean agreement is well above chance: a
  model whose clean agreement is 0.1 (chance) would score ~1, since corruption cannot make chance
  worse. So a model with no valid clean baseline is an error record with the reason, never a
  number: a conditional model whose clean agreement is not clearly above chance (Wilson lower
  bound at most 1/classes), or an unconditional one whose clean samples the evaluator puts in
  (almost) one class (CLASS_ENTROPY_FLOOR: one black image keeps "its" class under every
  corruption). Above chance, `details["clean_agreement"]` is reported beside the value and a note
  is added when it is below 0.5 (quality.conditional_accuracy gates the clean value). Likewise
  `robustness.latent_stability` errors when the latent barely reaches the output (LATENT_RMS_FLOOR),
  and the text checks when the model cannot tell its clean texts from their characters scrambled
  (SCRAMBLED_PERPLEXITY_FLOOR: a uniform model's perplexity ratio is 1 under any perturbation) or
  generates nothing for most prompts.
- `robustness.fgsm` / `robustness.pgd` attack the evaluator on held-out real digits: they
  characterise the evaluator every image check relies on, not the model, so their numbers are
  the same for every model of a run (computed once per run) and the suite gates them not.
- `robustness.paraphrase_consistency` continues paraphrased story openings
  (audit.robustness.paraphrases) and compares the continuations of one group's paraphrases with
  ROUGE-L. A model that says the same thing whatever the prompt is also "consistent", so the same
  statistic between continuations of *different* groups' openings (paraphrase i of group g vs
  paraphrase i of group g+1) is reported beside it as a control, with the paired difference.
  It has no severities: its chart's x is the number of leading words of each continuation compared.
- `robustness.latent_stability` needs latents, from a declared capability only: ENCODE_DECODE
  (the VAE: posterior means of held-out digits, decoded) or LATENT (`latent_shape` and
  `sample(z=...)`: the bundled GAN's generator input z; the bundled diffusion model's initial
  noise x_T of its deterministic DDIM sampler). A model with neither is `skipped` (NotApplicable).
"""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any

import numpy as np

from audit.adapters.base import CONDITIONAL, ENCODE_DECODE, GENERATE, LATENT, LOG_PROBS, SAMPLE, has_capability
from audit.adapters.images import decoded_images, posterior_mean
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.errors import ModelOutputError, NotApplicable
from audit.families import IMAGE_FAMILIES
from audit.metrics import multinomial_counts
from audit.stats import wilson_ci

SEVERITY_X = (0, 1, 2, 3, 4, 5)
LATENT_SIGMA = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)
"""Per-dimension std of the Gaussian latent perturbation at severities 0..5 (the prior's std is 1)."""
HELDOUT_MAX = 360
TEXT_DOCS = 32
TEXT_WORDS = 64
PROMPT_WORDS = 24
PARAPHRASE_TOKENS = 40
PARAPHRASE_WORDS = (5, 10, 15, 20, 25, 30)
"""Continuations are compared on their first k words for each k; the value is the last (30 words,
about what 40 new tokens of TinyStories text give), so models with different tokenizers are
compared on texts of the same length in words."""
PARAPHRASE_TABLE_GROUPS = 3
CLASS_ENTROPY_FLOOR = 0.5
"""Least normalised entropy of an unconditional model's clean predicted classes (entropy / log of
min(classes, n), the most n samples can reach). Measured (seed 0, digits evaluator): vae 0.991 at
n=360, 0.924 at n=40, 0.889 at n=16; vae-fragile 0.953 at n=360, 0.799 at n=16; a generator of one
image (myrob:blank, myrob:noise_img) 0. Half the maximum is what three of ten classes shared evenly
reach (0.48): below it the samples span too few classes for agreement with their own clean
prediction to say anything (a corruption that keeps an image in its one class leaves it "robust")."""
LATENT_RMS_FLOOR = 1 / 255
"""Least median RMS pixel change per unit of latent noise (per-dimension sigma 1 = one prior std),
averaged over severities 1-5: one 8-bit grey level. Measured (seed 0): gan 0.124, vae 0.149,
vae-fragile 0.134 at n=360 (0.118, 0.160, 0.073 at n=16), diffusion 0.162 at n=40; one fixed image
plus 1e-6 * tanh(z[0]) (myrob:blank, noise_img, const_digit) 5e-8 to 3e-7."""
SCRAMBLED_PERPLEXITY_FLOOR = 2.0
"""Least ratio of per-token perplexity on character-scrambled copies of the clean texts to that on
the clean texts. Measured (n=360, seed 0): the bundled transformer 131 (perplexity 16.2 clean, 2.1e3
scrambled; 32 TinyStories documents of 64 words); a model with the same probability for every
token (mytext:uniform, and its silent and one-token-per-text variants) 1 exactly."""


def _corruption_seed(ctx: CheckContext, name: str, severity: int) -> int:
    return ctx.rng_seed(f"robustness.corruption:{name}:{severity}")


def _predictions(ctx: CheckContext, images: Any) -> np.ndarray:
    return ctx.store.evaluator.embed(images).predictions


def _agreement(ctx: CheckContext, images: Any, target: np.ndarray, names: list[str]) -> np.ndarray:
    """[N, C, S] 0/1: evaluator prediction on the corrupted image == target."""
    from audit.robustness.corruptions import corrupt

    clean = _predictions(ctx, images) == target
    out = np.empty((len(images), len(names), len(SEVERITY_X)))
    for c, name in enumerate(names):
        out[:, c, 0] = clean
        for s in SEVERITY_X[1:]:
            out[:, c, s] = _predictions(ctx, corrupt(images, name, s, _corruption_seed(ctx, name, s))) == target
    return out


def _heldout(ctx: CheckContext, n: int | None) -> tuple[Any, np.ndarray | None]:
    import torch

    ref = ctx.reference
    count = min(int(n if n is not None else ctx.n), len(ref.test_x), HELDOUT_MAX)
    if count < 2:
        raise ValueError(f"robustness checks need at least 2 held-out images, got {count}")
    y = None if ref.test_y is None else np.asarray(ref.test_y[:count])
    return torch.tensor(np.asarray(ref.test_x[:count]), dtype=torch.float32), y


def _clean_baseline(ctx: CheckContext, predictions: np.ndarray, labels: np.ndarray | None, classes: int) -> dict[str, Any]:
    """The clean samples' baseline, or ModelOutputError when it leaves nothing to be robust about.

    Conditional models: clean agreement with the requested labels must be clearly above chance
    (Wilson lower bound above 1/classes), else the samples do not carry their class to begin with.
    Unconditional models: the target is the evaluator's own clean prediction, so agreement is 1 by
    construction; the predicted classes must be diverse (CLASS_ENTROPY_FLOOR), else a generator of one
    image, whose corruptions stay in its one class, reads as robust."""
    count = len(predictions)
    if count < 2:
        raise ValueError(f"robustness.evaluator_accuracy needs at least 2 samples, got {count}")
    if labels is not None:
        hits = int((predictions == labels).sum())
        low, high = wilson_ci(hits, count)
        baseline = {"clean_agreement": hits / count, "ci_low": low, "ci_high": high, "chance": 1 / classes,
                    "rule": "Wilson 95% lower bound of clean agreement with the requested labels above chance (1/classes)"}
        if not low > 1 / classes:
            raise ModelOutputError(
                f"model '{ctx.model}' samples match the label asked for in {hits}/{count} ({hits / count:.3g}, 95% CI from {low:.3g}), "
                f"not clearly above chance (1/{classes}): its clean samples do not carry their label, so there is no robustness to measure")
        return baseline
    shares = np.bincount(predictions, minlength=classes) / count
    present = shares[shares > 0]
    entropy = float((present * np.log(1 / present)).sum() / np.log(min(classes, count)))
    baseline = {"classes_predicted": int(len(present)), "largest_class_share": float(shares.max()), "normalised_entropy": entropy,
                "floor": CLASS_ENTROPY_FLOOR, "rule": "entropy of the clean predicted classes / log(min(classes, n)) at least the floor"}
    if entropy < CLASS_ENTROPY_FLOOR:
        raise ModelOutputError(
            f"model '{ctx.model}' clean samples fall into {len(present)} of {classes} evaluator classes ({shares.max():.0%} in class "
            f"{int(shares.argmax())}; normalised entropy {entropy:.3g} < {CLASS_ENTROPY_FLOOR}): agreement with its own clean "
            "prediction survives any corruption that keeps that class, so there is no robustness to measure")
    return baseline


@check("robustness.evaluator_accuracy", families=IMAGE_FAMILIES, needs=(SAMPLE,), higher_is_better=True, unit="share of clean")
def evaluator_accuracy(ctx: CheckContext) -> Measurement:
    """Evaluator agreement with each sample's label under 5 corruptions x severities 0-5 (normalised area, bootstrap CI)."""
    from audit.robustness import curves
    from audit.robustness.corruptions import CORRUPTIONS

    names = list(CORRUPTIONS)
    samples = ctx.samples()
    classes = ctx.require_classes("agreement under corruption")
    conditional = samples.labels is not None and has_capability(ctx.adapter, CONDITIONAL)
    clean = ctx.embedding().predictions
    if conditional:
        target, mode = samples.labels.numpy(), "the label each sample was generated for"
    else:
        target, mode = clean, "the evaluator's prediction on the clean sample (unconditional model)"
    baseline = _clean_baseline(ctx, clean, target if conditional else None, classes)
    agree = _agreement(ctx, samples.images, target, names)
    weights = multinomial_counts(len(agree), ctx.bootstrap, ctx.rng_seed("robustness.evaluator_accuracy"))
    point, boot = curves.mean_curves(agree, weights)
    value, low, high, by_group = curves.summary(point, boot, names)
    finite_or_raise("normalised accuracy area", value)
    charts = [curves.chart("Evaluator agreement on corrupted samples", "agreement", names, SEVERITY_X, point, boot)]
    real_x, real_y = _heldout(ctx, None)
    if real_y is not None:
        real = ctx.store.memo("robustness.heldout_agreement", (ctx.seed, len(real_x)), lambda: _agreement(ctx, real_x, real_y, names), shared=True)
        r_point, r_boot = curves.mean_curves(real, multinomial_counts(len(real), ctx.bootstrap, ctx.rng_seed("robustness.heldout")))
        r_value, r_low, r_high, _ = curves.summary(r_point, r_boot, names)
        charts.append(curves.chart("Evaluator accuracy on corrupted held-out real digits", "accuracy", names, SEVERITY_X, r_point, r_boot))
        heldout = {"value": r_value, "ci_low": r_low, "ci_high": r_high, "n": len(real),
                   "clean_accuracy": float(r_point[0, 0]), "note": "a property of the evaluator, the same for every model"}
    else:
        heldout = None
    return Measurement(
        value, low, high, n=len(agree), by_group=by_group,
        details={
            "target": mode, "clean_agreement": float(point[0, 0]), "clean_baseline": baseline,
            "curve": {n_: point[c].tolist() for c, n_ in enumerate(names)},
            "summary": "mean over severities 1-5 of agreement(s) / agreement(0), averaged over corruptions",
            "heldout_real": heldout, "charts": charts,
            **({"note": f"clean agreement {point[0, 0]:.3g} is below 0.5: the ratio to it says little about robustness"}
               if point[0, 0] < 0.5 else {}),
        },
    )


@check("robustness.vae_reconstruction", families=("vae",), needs=(ENCODE_DECODE,), higher_is_better=False, unit="x clean MSE")
def vae_reconstruction(ctx: CheckContext, n: int | None = None) -> Measurement:
    """Reconstruction MSE of corrupted held-out digits against the clean image, relative to clean inputs (normalised area)."""
    from audit.robustness import curves
    from audit.robustness.corruptions import CORRUPTIONS, corrupt

    names = list(CORRUPTIONS)
    x, _ = _heldout(ctx, n)

    def mse(inputs: Any) -> np.ndarray:
        mu = posterior_mean(ctx.model, ctx.adapter, inputs)
        decoded = decoded_images(ctx.model, "decode()", ctx.adapter.decode(mu), len(inputs))
        if decoded.shape != x.shape:
            raise ModelOutputError(f"model '{ctx.model}' decode() returned shape {tuple(decoded.shape)} for inputs of shape {tuple(x.shape)}")
        return ((decoded - x) ** 2).flatten(1).mean(1).double().numpy()

    errors = np.empty((len(x), len(names), len(SEVERITY_X)))
    input_errors = np.zeros_like(errors)
    clean = mse(x)
    for c, name in enumerate(names):
        errors[:, c, 0] = clean
        for s in SEVERITY_X[1:]:
            corrupted = corrupt(x, name, s, _corruption_seed(ctx, name, s))
            errors[:, c, s] = mse(corrupted)
            input_errors[:, c, s] = ((corrupted - x) ** 2).flatten(1).mean(1).double().numpy()
    input_mse = input_errors.mean(axis=0)
    weights = multinomial_counts(len(x), ctx.bootstrap, ctx.rng_seed("robustness.vae_reconstruction"))
    point, boot = curves.mean_curves(errors, weights)
    value, low, high, by_group = curves.summary(point, boot, names)
    finite_or_raise("normalised reconstruction-error area", value)
    return Measurement(
        value, low, high, n=len(x), by_group=by_group,
        details={
            "clean_mse": float(point[0, 0]), "inputs": "held-out real digits", "target": "the clean image",
            "curve": {n_: point[c].tolist() for c, n_ in enumerate(names)},
            "summary": "mean over severities 1-5 of MSE(s) / MSE(0), averaged over corruptions (1 = unaffected)",
            "corrupted_input_mse": {n_: input_mse[c].tolist() for c, n_ in enumerate(names)},
            "denoising_factor": {
                n_: [float(point[c, s] / input_mse[c, s]) for s in SEVERITY_X[1:]] for c, n_ in enumerate(names)},
            "denoising_note": "reconstruction MSE / MSE of the corrupted input itself, severities 1-5: below 1, the VAE removes part of the corruption",
            "charts": [curves.chart("VAE reconstruction MSE of corrupted inputs", "MSE vs clean image", names, SEVERITY_X, point, boot)],
        },
    )


def _latent_decoder(ctx: CheckContext) -> tuple[Any, Any, str]:
    """(z0 [N, D], decode(z) -> images, source) from the declared ENCODE_DECODE (the posterior
    means of held-out digits) or LATENT capability (z ~ N(0, I) through `sample(z=...)`)."""
    adapter = ctx.adapter
    if has_capability(adapter, ENCODE_DECODE):
        x, _ = _heldout(ctx, None)

        def decode(z: Any) -> Any:
            return decoded_images(ctx.model, "decode()", adapter.decode(z), len(z))

        return posterior_mean(ctx.model, adapter, x), decode, "posterior means of held-out digits (encode/decode)"
    if has_capability(adapter, LATENT):
        return _sample_latent_decoder(ctx, int(ctx.n), tuple(adapter.latent_shape))
    raise NotApplicable(
        f"model '{ctx.model}' exposes no latent space: it declares neither {ENCODE_DECODE} (`encode`/`decode`) "
        f"nor {LATENT} (`latent_shape` and `sample(z=...)`)"
    )


def _sample_latent_decoder(ctx: CheckContext, n: int, shape: tuple[int, ...]) -> tuple[Any, Any, str]:
    """Latents z ~ N(0, I) of `shape` drawn from the run seed, decoded with balanced labels by
    `sample(n, seed, labels, z=z)` (for diffusion: the initial noise x_T of a deterministic DDIM run)."""
    import torch

    adapter = ctx.adapter
    z0 = torch.randn(n, int(np.prod(shape)), generator=torch.Generator().manual_seed(ctx.seed))
    labels = torch.arange(n) % adapter.num_classes if adapter.num_classes else None

    def decode(z: Any) -> Any:
        images = adapter.sample(n, ctx.seed, labels=labels, z=z.reshape(n, *shape))
        return decoded_images(ctx.model, "sample(z=...)", images, n).clamp(0, 1)

    return z0, decode, f"z ~ N(0, I) of shape {list(shape)} from the run seed, balanced labels, through `sample(z=...)`"


@check("robustness.latent_stability", families=IMAGE_FAMILIES, higher_is_better=False, unit="flip rate")
def latent_stability(ctx: CheckContext) -> Measurement:
    """Class-flip rate and output change per unit latent perturbation under Gaussian latent noise (severities 0-5)."""
    import torch

    from audit.robustness import curves

    z0, decode, source = _latent_decoder(ctx)
    eps = torch.randn(z0.shape, generator=torch.Generator().manual_seed(ctx.rng_seed("robustness.latent")))
    x0 = decode(z0)
    p0 = _predictions(ctx, x0)
    ctx.require_classes("the class-flip rate")  # after the evaluator has seen x0: it says its classes without the run's samples
    flips = np.zeros((len(z0), 1, len(LATENT_SIGMA)))
    change = np.zeros((len(z0), 1, len(LATENT_SIGMA)))
    rms = np.zeros((len(z0), len(LATENT_SIGMA) - 1))
    for s, sigma in enumerate(LATENT_SIGMA[1:], start=1):
        xs = decode(z0 + sigma * eps)
        flips[:, 0, s] = _predictions(ctx, xs) != p0
        change[:, 0, s] = ((xs - x0).flatten(1).norm(dim=1) / (sigma * eps.norm(dim=1))).double().numpy()
        rms[:, s - 1] = ((xs - x0).flatten(1).double().pow(2).mean(dim=1).sqrt() / sigma).numpy()
    if not change[:, 0, 1:].any():
        raise ModelOutputError(f"model '{ctx.model}' returned the same images for every perturbed latent ({source}): "
                               "the latent it declares does not reach its output, so there is no stability to measure")
    reach = float(np.median(rms.mean(axis=1)))
    if not reach >= LATENT_RMS_FLOOR:
        raise ModelOutputError(
            f"model '{ctx.model}': the latent it declares barely reaches its output ({source}): latent noise moves the median "
            f"image by {reach:.2g} RMS per unit of noise, below one grey level (1/255), so a flip rate says nothing about stability")
    weights = multinomial_counts(len(z0), ctx.bootstrap, ctx.rng_seed("robustness.latent_stability"))
    f_point, f_boot = curves.mean_curves(flips, weights)
    c_point, c_boot = curves.mean_curves(change, weights)
    value = float(f_point[0, 1:].mean())
    low, high = curves.interval(value, None if f_boot is None else f_boot[:, 0, 1:].mean(axis=1))
    sensitivity = float(c_point[0, 1:].mean())
    s_low, s_high = curves.interval(sensitivity, None if c_boot is None else c_boot[:, 0, 1:].mean(axis=1))
    return Measurement(
        value, low, high, n=len(z0),
        details={
            "latents": source, "latent_sigma": list(LATENT_SIGMA),
            "summary": "class-flip rate (evaluator prediction differs from the unperturbed output) averaged over severities 1-5",
            "output_change_per_unit_latent": {"value": sensitivity, "ci_low": s_low, "ci_high": s_high,
                                              "unit": "pixel L2 change / latent L2 perturbation, mean over severities 1-5"},
            "output_reach": {"value": reach, "floor": LATENT_RMS_FLOOR,
                             "unit": "median over samples of the RMS pixel change / per-dimension latent sigma, mean over severities 1-5"},
            "charts": [
                curves.chart("Class flips under latent noise", "flip rate", ["flip rate"], SEVERITY_X, f_point, f_boot),
                curves.chart("Output change per unit latent perturbation", "pixel L2 / latent L2", ["sensitivity"],
                             SEVERITY_X, c_point, c_boot),
            ],
        },
    )


def _adversarial(ctx: CheckContext, attack: str, n: int | None) -> dict[str, Any]:
    """Attack success per epsilon on held-out digits, once per run (it depends on the evaluator only)."""
    import torch

    from audit.robustness.adversarial import EPSILONS, fgsm, pgd

    x, y = _heldout(ctx, n)
    ctx.require_classes("an attack on the evaluator's classification")
    if y is None:
        raise NotApplicable(
            f"attacks on the evaluator need labelled held-out images; reference '{ctx.reference.name}' has no labels "
            "(put data= images in class subfolders 0/, 1/, ...)"
        )
    evaluator = ctx.store.evaluator

    def compute() -> dict[str, Any]:
        labels = torch.tensor(y, dtype=torch.long)

        def logits_fn(images: Any) -> Any:
            return evaluator.features_and_logits(images)[1]

        clean = _predictions(ctx, x) == y
        fn = fgsm if attack == "fgsm" else pgd
        rows = []
        for eps in EPSILONS:
            adv = fn(logits_fn, x, labels, eps)
            fooled = clean & (_predictions(ctx, adv) != y)
            k, m = int(fooled.sum()), int(clean.sum())
            low, high = wilson_ci(k, m)
            rows.append({"x": eps, "value": k / m if m else float("nan"), "ci_low": low, "ci_high": high, "k": k, "n": m,
                         "max_abs_change": float((adv - x).abs().max())})
        return {"rows": rows, "clean_accuracy": float(clean.mean()), "n": len(x)}

    return ctx.store.memo(f"robustness.{attack}", (evaluator.sha256, len(x)), compute, shared=True)


def _attack_measurement(ctx: CheckContext, attack: str, epsilon: float, n: int | None) -> Measurement:
    from audit.robustness.adversarial import EPSILONS, PGD_STEPS

    result = _adversarial(ctx, attack, n)
    rows = result["rows"]
    if float(epsilon) not in EPSILONS:
        raise ValueError(f"epsilon must be one of {EPSILONS}, got {epsilon}")
    row = next(r for r in rows if r["x"] == float(epsilon))
    title = "FGSM" if attack == "fgsm" else f"PGD ({PGD_STEPS} steps)"
    points = [{k: r[k] for k in ("x", "value", "ci_low", "ci_high")} for r in rows]
    return Measurement(
        row["value"], row["ci_low"], row["ci_high"], n=row["n"],
        details={
            "epsilon": float(epsilon), "norm": "L-inf, images in [0, 1]", "target": "the bundled evaluator on held-out real digits",
            "success": "share of correctly classified held-out digits the attack makes misclassified (Wilson CI)",
            "clean_accuracy": result["clean_accuracy"], "curve": rows,
            "note": "measures the evaluator, not the model: the same for every model in a run",
            "charts": [{"title": f"{title} success vs epsilon", "x_label": "epsilon (L-inf)", "y_label": "attack success rate",
                        "series": {f"evaluator ({attack})": points}}],
        },
    )


@check("robustness.fgsm", families=IMAGE_FAMILIES, higher_is_better=False, unit="success rate")
def fgsm_attack(ctx: CheckContext, epsilon: float = 0.05, n: int | None = None) -> Measurement:
    """FGSM success rate against the evaluator on held-out digits, curve over epsilon 0-0.2 (Wilson CIs)."""
    return _attack_measurement(ctx, "fgsm", epsilon, n)


@check("robustness.pgd", families=IMAGE_FAMILIES, higher_is_better=False, unit="success rate")
def pgd_attack(ctx: CheckContext, epsilon: float = 0.05, n: int | None = None) -> Measurement:
    """PGD (10 steps, L-inf) success rate against the evaluator on held-out digits, curve over epsilon (Wilson CIs)."""
    return _attack_measurement(ctx, "pgd", epsilon, n)


def _require_text(ctx: CheckContext, outputs: list[str], what: str) -> None:
    """ModelOutputError when at least half of `outputs` are empty or whitespace: compared with
    each other, empty continuations agree perfectly and say nothing about robustness."""
    empty = sum(not o.strip() for o in outputs)
    if 2 * empty >= len(outputs):
        raise ModelOutputError(f"model '{ctx.model}' generated nothing (or only whitespace) for {empty} of {len(outputs)} {what}: "
                               "empty continuations agree with each other whatever the prompt, so there is no robustness to measure")


def _per_token_perplexity(pairs: np.ndarray) -> float:
    """exp(total NLL / total tokens) of story_nll rows."""
    return float(np.exp(pairs[:, 0].sum() / pairs[:, 1].sum()))


def _text_baseline(ctx: CheckContext, texts: list[str], clean_nll: np.ndarray, seeds: list[int]) -> dict[str, Any]:
    """Clean against character-scrambled perplexity, or ModelOutputError when the model cannot tell
    text from its scrambled copy (SCRAMBLED_PERPLEXITY_FLOOR): a model that gives every token the
    same probability (a uniform distribution, the prompt ignored) keeps its perplexity under any
    perturbation, which would read as perfect robustness."""
    from audit.robustness.text import scrambled
    from audit.text_generation import story_nll

    clean = _per_token_perplexity(clean_nll)
    control = _per_token_perplexity(story_nll(ctx.adapter, [scrambled(t, seeds[i]) for i, t in enumerate(texts)]))
    ratio = control / clean
    if not ratio >= SCRAMBLED_PERPLEXITY_FLOOR:
        raise ModelOutputError(
            f"model '{ctx.model}' finds the clean texts hardly more likely than their characters scrambled (perplexity {clean:.4g} "
            f"vs {control:.4g}, ratio {ratio:.3g} < {SCRAMBLED_PERPLEXITY_FLOOR:g}): it does not read its input, so there is no "
            "robustness to measure")
    return {"clean_perplexity": clean, "scrambled_perplexity": control, "ratio": ratio, "floor": SCRAMBLED_PERPLEXITY_FLOOR,
            "control": "the same texts with their characters in a seeded random order (audit.robustness.text.scrambled)"}


@check("robustness.text_perturbation", families=("transformer",), needs=(LOG_PROBS, GENERATE), higher_is_better=False,
       unit="x clean perplexity")
def text_perturbation(ctx: CheckContext, docs: int = TEXT_DOCS) -> Measurement:
    """Perplexity ratio and top-1 next-token agreement under typos, casing, whitespace, word order, code-switching (severities 0-5)."""
    from audit.robustness import curves
    from audit.robustness.text import OUT_OF_DISTRIBUTION, PERTURBATIONS, perturb
    from audit.text_generation import generate_texts, heldout_documents, story_nll

    names = list(PERTURBATIONS)
    documents, source = heldout_documents(ctx)
    count = min(int(docs), int(ctx.n), len(documents))
    if count < 2:
        raise ValueError(f"robustness.text_perturbation needs at least 2 held-out documents, got {count}")
    texts = [" ".join(d.split(" ")[:TEXT_WORDS]) for d in documents[:count]]
    prompts = [" ".join(d.split()[:PROMPT_WORDS]) for d in documents[:count]]
    seeds = [ctx.seed * 7919 + i for i in range(count)]

    clean_nll = story_nll(ctx.adapter, texts)
    baseline = _text_baseline(ctx, texts, clean_nll, seeds)
    clean_next = generate_texts(ctx, prompts, 1, greedy=True, batch=64).outputs
    _require_text(ctx, clean_next, "clean prompts (one greedy token)")
    nll = np.empty((count, len(names), len(SEVERITY_X)))
    tokens = np.empty_like(nll)
    agree = np.empty_like(nll)
    for c, name in enumerate(names):
        nll[:, c, 0], tokens[:, c, 0], agree[:, c, 0] = clean_nll[:, 0], clean_nll[:, 1], 1.0
        for s in SEVERITY_X[1:]:
            pairs = story_nll(ctx.adapter, [perturb(t, name, s, seeds[i]) for i, t in enumerate(texts)])
            nll[:, c, s], tokens[:, c, s] = pairs[:, 0], pairs[:, 1]
            nxt = generate_texts(ctx, [perturb(p, name, s, seeds[i]) for i, p in enumerate(prompts)], 1, greedy=True, batch=64).outputs
            agree[:, c, s] = [a == b for a, b in zip(nxt, clean_next)]
    weights = multinomial_counts(count, ctx.bootstrap, ctx.rng_seed("robustness.text_perturbation"))
    per_token, per_token_boot = curves.ratio_curves(nll, tokens, weights)
    ppl = np.exp(per_token)
    ppl_boot = None if per_token_boot is None else np.exp(per_token_boot)
    ratio = ppl / ppl[:, :1]
    ratio_boot = None if ppl_boot is None else ppl_boot / ppl_boot[:, :, :1]
    value, low, high, by_group = curves.summary(ppl, ppl_boot, names)
    finite_or_raise("perplexity ratio", value)
    a_point, a_boot = curves.mean_curves(agree, weights)
    clean_ppl = float(ppl[0, 0])
    ood = {}
    for kind, samples in OUT_OF_DISTRIBUTION.items():
        kind_ppl = _per_token_perplexity(story_nll(ctx.adapter, list(samples)))
        ood[kind] = {"perplexity": kind_ppl, "ratio_to_clean": kind_ppl / clean_ppl, "texts": len(samples)}
    return Measurement(
        value, low, high, n=count, by_group=by_group,
        details={
            "reference": source, "documents": count, "words_per_document": TEXT_WORDS, "prompt_words": PROMPT_WORDS,
            "clean_perplexity": clean_ppl, "clean_baseline": baseline,
            "summary": "mean over severities 1-5 of perplexity(s) / perplexity(0), averaged over perturbations (1 = unaffected)",
            "top1_agreement": {n_: a_point[c].tolist() for c, n_ in enumerate(names)},
            "top1_agreement_mean": float(a_point[:, 1:].mean()),
            "perplexity_ratio": {n_: ratio[c].tolist() for c, n_ in enumerate(names)},
            "out_of_distribution": ood,
            "charts": [
                curves.chart("Perplexity under text perturbation (ratio to clean)", "perplexity / clean perplexity", names,
                             SEVERITY_X, ratio, ratio_boot),
                curves.chart("Top-1 next-token agreement with the clean prompt", "agreement", names, SEVERITY_X, a_point, a_boot),
            ],
        },
    )


def _name_mentioned(name: str, text: str) -> bool:
    """Whether `name` appears in `text` as a whole word (case kept: names are proper nouns)."""
    return re.search(rf"\b{re.escape(name)}\b", text) is not None


def _paraphrase_rouge(continuations: list[list[str]], cuts: tuple[int, ...]) -> np.ndarray:
    """[G, 2, K] ROUGE-L F1 on the first cuts[k] words: [:, 0] the mean over pairs of one group's
    continuations, [:, 1] the mean over i of continuation i of group g vs continuation i of group g+1."""
    from audit.metrics.text import first_words, rouge_per_item

    count, per = len(continuations), len(continuations[0])
    within = [(g, i, g, j) for g in range(count) for i, j in combinations(range(per), 2)]
    across = [(g, i, (g + 1) % count, i) for g in range(count) for i in range(per)]
    out = np.empty((count, 2, len(cuts)))
    for s, pairs in enumerate((within, across)):
        for k, cut in enumerate(cuts):
            scores = rouge_per_item([first_words(continuations[a][i], cut) for a, i, _, _ in pairs],
                                    [first_words(continuations[b][j], cut) for _, _, b, j in pairs], ("rougeL",))[:, 0]
            out[:, s, k] = scores.reshape(count, -1).mean(axis=1)
    return out


def _with_interval(point: float, replicates: np.ndarray | None) -> dict[str, Any]:
    from audit.robustness import curves

    low, high = curves.interval(point, replicates)
    return {"value": float(point), "ci_low": low, "ci_high": high}


@check("robustness.paraphrase_consistency", families=("transformer",), needs=(GENERATE,), higher_is_better=True,
       unit="ROUGE-L F1")
def paraphrase_consistency(ctx: CheckContext, groups: int | None = None, max_new_tokens: int = PARAPHRASE_TOKENS) -> Measurement:
    """ROUGE-L between greedy continuations of paraphrased openings, against continuations of different openings (bootstrap CI over groups)."""
    from audit.metrics.text import first_words
    from audit.robustness import curves
    from audit.robustness.paraphrases import PARAPHRASES
    from audit.text_generation import GENERATION_BATCH, generate_texts

    count = min(int(groups) if groups is not None else len(PARAPHRASES), int(ctx.n), len(PARAPHRASES))
    if count < 2:
        raise ValueError(f"robustness.paraphrase_consistency needs at least 2 paraphrase groups, got {count}")
    chosen = PARAPHRASES[:count]
    per = len(chosen[0].prompts)
    gens = generate_texts(ctx, [p for g in chosen for p in g.prompts], int(max_new_tokens), greedy=True, batch=GENERATION_BATCH)
    _require_text(ctx, gens.outputs, "paraphrased openings")
    continuations = [gens.outputs[g * per : (g + 1) * per] for g in range(count)]
    scores = _paraphrase_rouge(continuations, PARAPHRASE_WORDS)
    words = PARAPHRASE_WORDS[-1]
    cut = [[first_words(c, words) for c in group] for group in continuations]
    mentions = np.array([[np.mean([_name_mentioned(name, c) for c in group]) for name in (g.name, chosen[(i + 1) % count].name)]
                         for i, (g, group) in enumerate(zip(chosen, cut))])

    weights = multinomial_counts(count, ctx.bootstrap, ctx.rng_seed("robustness.paraphrase_consistency"))
    point, boot = curves.mean_curves(scores, weights)
    mention, mention_boot = curves.mean_curves(mentions, weights)
    value = finite_or_raise("paraphrase consistency", float(point[0, -1]))
    low, high = curves.interval(value, None if boot is None else boot[:, 0, -1])
    difference = _with_interval(point[0, -1] - point[1, -1], None if boot is None else boot[:, 0, -1] - boot[:, 1, -1])
    rows = [[g.name, p, c] for g, group in zip(chosen[:PARAPHRASE_TABLE_GROUPS], cut) for p, c in zip(g.prompts, group)]
    series = ["within group (paraphrases)", "across groups (control)"]
    return Measurement(
        value, low, high, n=count,
        details={
            "groups": count, "paraphrases_per_group": per, "max_new_tokens": int(max_new_tokens), "words_compared": words,
            "prompts": "audit/robustness/paraphrases.py: project-authored TinyStories-style openings, 3 paraphrases per group",
            "summary": (f"mean over groups of the mean pairwise ROUGE-L F1 (torchmetrics, no stemmer) between the first {words} "
                        "words of the continuations of one group's paraphrases"),
            "control": ("the same statistic between continuation i of group g and continuation i of group g+1 (different "
                        "openings): what a model earns by saying the same thing whatever the prompt"),
            "across_groups": _with_interval(point[1, -1], None if boot is None else boot[:, 1, -1]),
            "difference": {**difference, "definition": "within - across, paired over groups (same bootstrap draws)"},
            "name_mention": {
                **_with_interval(mention[0], None if mention_boot is None else mention_boot[:, 0]),
                "other_group_name": _with_interval(mention[1], None if mention_boot is None else mention_boot[:, 1]),
                "definition": (f"share of continuations (first {words} words) that name their group's main character "
                               "(a pronoun does not count); other_group_name: the paired control group's character instead"),
            },
            "per_group": {g.name: {"within": float(scores[i, 0, -1]), "across": float(scores[i, 1, -1])} for i, g in enumerate(chosen)},
            "ci": "bootstrap over groups (one set of draws for every number, so the difference is paired)",
            **gens.timing(),
            "charts": [curves.chart("ROUGE-L between continuations by length", "ROUGE-L F1", series, PARAPHRASE_WORDS, point, boot,
                                    x_label="first k words of each continuation")],
            "tables": [{"title": "Paraphrased openings and their continuations", "columns": ["group", "opening", "continuation"],
                        "rows": rows}],
        },
    )
