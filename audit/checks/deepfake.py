"""Deepfake detection and provenance checks: how detectable a generator's outputs are, whether
detectors trained on other generators catch them, how detection survives everyday processing and
whether it treats classes alike, and whether image and text watermarks survive.

Data. Real images are the run's held-out reference digits (never seen by a bundled detector);
fakes are the run's shared sample set of the model under audit (seeds a detector never saw: the
detectors' training fakes were drawn from seeds >= 1,000,000). Scores are the detectors'
probability of "fake"; AUC, average precision and EER are threshold-free, accuracy is the
balanced accuracy at each detector's calibrated threshold (its validation EER threshold, from
its manifest). Every CI is a bootstrap over real and fake images resampled separately.

Checks (image families unless stated; none has a default gate except the watermark rates, see
audit/suites/deepfake.toml — detectability is a property a release owner reads, not a pass/fail):
- `deepfake.detectability`: AUC of the bundled all-generator detectors (CNN, spectrum) with AP,
  EER and accuracy; the value is the best detector's AUC; the ROC curves in the report.
- `deepfake.generalisation`: leave-one-generator-out. Detectors trained on a single generator
  family score this model's samples; the value is the best AUC of the detectors trained on the
  *other* families (their mean in details), and the report assembles the generalisation matrix
  (rows: the family a detector was trained on, columns: the models of the run) from every model's
  record.

- `deepfake.detection_robustness`: the CNN detector's AUC when real and fake images pass through
  JPEG, blur, noise and resizing at severities 0-5 (curves with CIs); value = mean over 1-5.
- `deepfake.detector_fairness`: fairlearn MetricFrame of the detection decision by digit class
  (true-positive rate on fakes, false-positive rate on real digits); value = equalized odds
  difference (the larger of the TPR and FPR gaps between classes).
- `deepfake.image_watermark`: the keyed DCT spread-spectrum watermark embedded into this model's
  samples: detection rate (Wilson CI), false-positive rate on real held-out digits against the
  documented bound, PSNR, and survival curves under the same processing.
- `deepfake.machine_text` (transformer declaring `causal_lm`): a zero-shot detector (mean log-rank, or log-likelihood,
  under the model itself) telling the model's continuations of held-out story prompts from the
  stories' human continuations of the same length; AUC with CI and the ROC curve.
- `deepfake.text_watermark` (transformer declaring `tokenizer` and `causal_lm`, with
  `generate(logits_processor=...)`): green-list
  watermark (Kirchenbauer et al., 2023) detection rate on watermarked generations, false-positive
  rate on human continuations and on unwatermarked generations, survival under text perturbations.

Reversed detectors. An AUC whose CI lies entirely below 0.5 is flagged `reversed` (with
`reversed_auc`, the flipped rule's AUC) for each detector of detectability, each cell of the
generalisation matrices, the clean AUC of detection robustness and machine text: the detector
separates the samples from real data with its sign inverted (e.g. uniform noise, which the CNN
scores as more real than real digits), so the samples are separable, never "indistinguishable".
Headlines take the largest AUC over the detectors, not the mean, so an inverted detector cannot
average a detector that catches every sample down to a chance-looking 0.5.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from audit.adapters.base import CAUSAL_LM, CONDITIONAL, GENERATE, SAMPLE, TOKENIZER, accepts, has_capability
from audit.checks.base import Measurement, check
from audit.context import CheckContext
from audit.errors import NotApplicable
from audit.families import IMAGE_FAMILIES
from audit.metrics import group_frame
from audit.metrics.privacy import downsample_curve, mia_auc
from audit.stats import bias_adjusted_interval, wilson_ci

PRIMARY_DETECTOR = "detector-cnn"
DETECTOR_IMAGE_SHAPE = (1, 16, 16)
ROC_POINTS = 50
TEXT_PROMPT_WORDS = 24
TEXT_WORDS = 48
TEXT_PROMPTS = 100
TEXT_MAX_TOKENS = 96
"""Text checks: prompts are a held-out story's first 24 words; the human text is its next 48
words, the machine text the model's first 48 words (TinyStories runs ~1.4 tokens per word, so
96 new tokens cover them); 100 prompts per run (capped by n)."""
WATERMARK_TEXT_TOKENS = 128


# ---- shared data --------------------------------------------------------------------------------


def _fakes(ctx: CheckContext) -> Any:
    samples = ctx.samples()
    if tuple(samples.images.shape[1:]) != DETECTOR_IMAGE_SHAPE:
        raise NotApplicable(
            f"the bundled detectors and watermark read {list(DETECTOR_IMAGE_SHAPE)} digits; model '{ctx.model}' "
            f"makes images of shape {list(samples.images.shape[1:])}"
        )
    return samples


def _real(ctx: CheckContext) -> tuple[Any, np.ndarray | None]:
    """The held-out reference images (and labels when known), as the detectors' negatives."""
    import torch

    _fakes(ctx)  # the bundled detectors read 1x16x16 digits: any other model is skipped with that reason
    ref = ctx.reference
    x = torch.tensor(np.asarray(ref.test_x), dtype=torch.float32)
    y = None if ref.test_y is None else np.asarray(ref.test_y[: len(x)])  # a data= pixel subset is a prefix of the split
    return x, y


def _detector(ctx: CheckContext, name: str) -> Any:
    from audit.deepfake.detectors import load_detector

    detector = ctx.store.memo("deepfake.detector", name, lambda: load_detector(name), shared=True)
    ctx.store.instruments.update({f"detector:{file}": digest for file, digest in detector.weights.items()})
    return detector


def _real_scores(ctx: CheckContext, name: str) -> np.ndarray:
    """Detector scores of the held-out real digits: once per run (they do not depend on the model)."""
    return ctx.store.memo("deepfake.real_scores", name, lambda: _detector(ctx, name).score(_real(ctx)[0]), shared=True)


def _fake_scores(ctx: CheckContext, name: str) -> np.ndarray:
    return ctx.memo("deepfake.fake_scores", lambda: _detector(ctx, name).score(_fakes(ctx).images), name)


def _index_bootstrap(
    statistic: Callable[[np.ndarray, np.ndarray], Any], n_real: int, n_fake: int, resamples: int, seed: int
) -> np.ndarray | None:
    """`statistic(real_idx, fake_idx)` on `resamples` draws (real and fake resampled separately);
    shared draws keep the CIs of several statistics of one check consistent."""
    if resamples <= 0:
        return None
    rng = np.random.default_rng(seed)
    return np.array([
        statistic(rng.integers(0, n_real, n_real), rng.integers(0, n_fake, n_fake)) for _ in range(resamples)
    ], dtype=np.float64)


def _interval(point: float, replicates: np.ndarray | None) -> tuple[float | None, float | None]:
    if replicates is None:
        return None, None
    low, high = bias_adjusted_interval(float(point), replicates)
    return (low if np.isfinite(low) else None), (high if np.isfinite(high) else None)


def _cell(point: float, replicates: np.ndarray | None) -> dict[str, Any]:
    low, high = _interval(point, replicates)
    return {"value": float(point), "ci_low": low, "ci_high": high}


def _roc_series(real: np.ndarray, fake: np.ndarray) -> list[dict[str, float]]:
    from sklearn.metrics import roc_curve

    y = np.concatenate([np.zeros(len(real)), np.ones(len(fake))])
    fpr, tpr, _ = roc_curve(y, np.concatenate([real, fake]), drop_intermediate=False)
    return downsample_curve(fpr, tpr, ROC_POINTS)


def _chance(points: int = ROC_POINTS) -> list[dict[str, float]]:
    return [{"x": float(g), "value": float(g)} for g in np.linspace(0.0, 1.0, points)]


def _reversal(cell: dict[str, Any]) -> dict[str, Any]:
    """`reversed`: the AUC's CI lies entirely below 0.5, so the scores *do* separate the two sides,
    with the detector's sign inverted (it scores these positives as less machine-made than the
    negatives: out-of-distribution fakes, or a decoding the detector's rule does not expect), never
    "indistinguishable"; `reversed_auc`: the AUC of the flipped rule. False without a CI."""
    high = cell.get("ci_high")
    return {"reversed": bool(high is not None and high < 0.5), "reversed_auc": 1.0 - float(cell["value"])}


def _best_and_mean(
    real: dict[str, np.ndarray], fake: dict[str, np.ndarray], resamples: int, seed: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Cells (value, CI) of the largest and of the mean AUC over the detectors keyed in `real` and
    `fake` (scores of the same images), from one shared bootstrap of the images. The largest is
    what a headline reads: a mean would average a detector that catches every sample with one
    whose sign is inverted (AUC 0) into 0.5, which reads as chance."""
    names = list(real)
    n_real, n_fake = len(real[names[0]]), len(fake[names[0]])

    def both(ri: np.ndarray, fi: np.ndarray) -> tuple[float, float]:
        aucs = [mia_auc(fake[d][fi], real[d][ri]) for d in names]
        return max(aucs), float(np.mean(aucs))

    point = both(np.arange(n_real), np.arange(n_fake))
    boot = _index_bootstrap(both, n_real, n_fake, resamples, seed)
    cells = [_cell(point[j], None if boot is None else boot[:, j]) for j in range(2)]
    for cell in cells:
        for bound in ("ci_low", "ci_high"):
            cell[bound] = None if cell[bound] is None else float(np.clip(cell[bound], 0.0, 1.0))
    return cells[0], cells[1]


def _reversed_note(reversed_names: list[str]) -> str:
    """The sentence a summary adds when some of its detectors are reversed (empty when none is)."""
    if not reversed_names:
        return ""
    return (f" Reversed (AUC CI entirely below 0.5): {', '.join(reversed_names)} -- these samples are separable from real "
            "data but the detector scores them as more real than real (its sign is inverted for them): a miscalibrated "
            "detector, not an undetectable model; `reversed_auc` is the flipped rule's AUC.")


def _fmt_ci(cell: dict[str, Any]) -> str:
    if cell.get("ci_low") is None:
        return ""
    return f"[{cell['ci_low']:.3f}, {cell['ci_high']:.3f}]"


def _survival(
    names: Any, severities: Any, n: int, detected_at: Callable[[str, int], int]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[float]]]:
    """Watermark survival curves: per perturbation, the detection rate (Wilson CI) at each severity,
    `detected_at(name, severity)` giving the number of the n marked items still detected."""
    series, survival = {}, {}
    for name in names:
        pts = []
        for s in severities:
            k = detected_at(name, s)
            low, high = wilson_ci(k, n)
            pts.append({"x": float(s), "value": k / n, "ci_low": low, "ci_high": high})
        series[name], survival[name] = pts, [p["value"] for p in pts]
    return series, survival


# ---- detectability ------------------------------------------------------------------------------


@check("deepfake.detectability", families=IMAGE_FAMILIES, needs=(SAMPLE,), unit="AUC")
def detectability(ctx: CheckContext, detector: str = PRIMARY_DETECTOR) -> Measurement:
    """How well the bundled detectors tell this model's samples from held-out real digits: the best
    detector's AUC (bootstrap CI), each detector's AUC, AP, EER, accuracy and reversal in details."""
    from audit.deepfake.detectors import general_detectors
    from audit.deepfake.metrics import detection_intervals, detection_metrics

    names = list(dict.fromkeys([detector, *general_detectors()]))
    per: dict[str, dict[str, Any]] = {}
    rows, series = [], {}
    for i, name in enumerate(names):
        det, real, fake = _detector(ctx, name), _real_scores(ctx, name), _fake_scores(ctx, name)
        point = detection_metrics(real, fake, det.threshold)
        cis = detection_intervals(real, fake, det.threshold, ctx.bootstrap, ctx.rng_seed(f"deepfake.detectability:{name}"))
        per[name] = {
            metric: {"value": float(v), "ci_low": cis.get(metric, (None, None))[0], "ci_high": cis.get(metric, (None, None))[1]}
            for metric, v in point.items()
        }
        per[name].update(_reversal(per[name]["auc"]))
        per[name]["threshold"] = float(det.threshold)
        per[name]["weights"] = det.weights
        rows.append([name, det.kind, per[name]["auc"]["value"], _fmt_ci(per[name]["auc"]), per[name]["reversed"],
                     per[name]["average_precision"]["value"], per[name]["eer"]["value"], per[name]["accuracy"]["value"],
                     _fmt_ci(per[name]["accuracy"]), float(det.threshold)])
        series[name] = _roc_series(real, fake)
    series["chance"] = _chance()
    best, mean = _best_and_mean({d: _real_scores(ctx, d) for d in names}, {d: _fake_scores(ctx, d) for d in names},
                                ctx.bootstrap, ctx.rng_seed("deepfake.detectability:best"))
    best_name = max(names, key=lambda d: per[d]["auc"]["value"])
    reversed_names = [d for d in names if per[d]["reversed"]]
    return Measurement(
        best["value"], best["ci_low"], best["ci_high"], n=len(_real_scores(ctx, detector)) + len(_fake_scores(ctx, detector)),
        details={
            "detector": detector, "best_detector": best_name, "detectors": per, "reversed_detectors": reversed_names,
            "mean_auc": mean,
            "summary": f"ROC AUC of the best of {', '.join(names)} on this model's samples (positives) vs held-out real digits "
                       f"(negatives), here {best_name}; 1 = always caught, 0.5 = that detector is at chance. The largest AUC, "
                       "not the mean: detectors that fail on these samples do not make them undetectable when another "
                       "catches them; each detector's numbers are in `detectors`." + _reversed_note(reversed_names),
            "n_real": int(len(_real_scores(ctx, detector))), "n_fake": int(len(_fake_scores(ctx, detector))),
            "charts": [{"title": "ROC: detectors on this model's samples vs real digits", "x_label": "false positive rate",
                        "y_label": "true positive rate", "series": series}],
            "tables": [{"title": "Detectability by detector (accuracy = balanced accuracy at the calibrated threshold; reversed = "
                                 "AUC CI entirely below 0.5, separable with the detector's sign inverted)",
                        "columns": ["detector", "kind", "AUC", "AUC 95% CI", "reversed", "average precision", "EER", "accuracy",
                                    "accuracy 95% CI", "threshold"], "rows": rows}],
        },
    )


@check("deepfake.generalisation", families=IMAGE_FAMILIES, needs=(SAMPLE,), unit="AUC")
def generalisation(ctx: CheckContext, kind: str = "cnn") -> Measurement:
    """Leave-one-generator-out: the best AUC among detectors trained on one other generator family only, on this model's samples."""
    from audit.deepfake.detectors import family_detectors

    own = ctx.adapter.info.family
    matrices, value_parts = [], {}
    for k in dict.fromkeys([kind, "cnn", "spectrum"]):
        detectors = family_detectors(k)
        real = {f: _real_scores(ctx, name) for f, name in detectors.items()}
        fake = {f: _fake_scores(ctx, name) for f, name in detectors.items()}
        n_real, n_fake = len(next(iter(real.values()))), len(next(iter(fake.values())))
        seed = ctx.rng_seed(f"deepfake.generalisation:{k}")
        cells = {}
        for family, name in detectors.items():
            point = mia_auc(fake[family], real[family])
            boot = _index_bootstrap(lambda ri, fi, f=family: mia_auc(fake[f][fi], real[f][ri]), n_real, n_fake, ctx.bootstrap, seed)
            cell = _cell(point, boot)
            cells[f"trained on {family} ({name})"] = {**cell, **_reversal(cell), "trained_on": family, "detector": name}
        others = [f for f in detectors if f != own]
        best, mean = _best_and_mean({f: real[f] for f in others}, {f: fake[f] for f in others}, ctx.bootstrap, seed)
        reversed_names = [c["detector"] for c in cells.values() if c["reversed"] and c["trained_on"] in others]
        value_parts[k] = {**best, "families": others, "mean_auc": mean, "reversed_detectors": reversed_names}
        matrices.append({
            "title": f"Generalisation matrix, {k} detectors: AUC of a detector trained on one generator family (rows) "
                     "on each model's samples (columns)",
            "row_label": "detector", "column": f"{ctx.model} ({ctx.precision})", "cells": cells,
        })
    main = value_parts[kind]
    return Measurement(
        main["value"], main["ci_low"], main["ci_high"], n=n_real + n_fake,
        details={
            "kind": kind, "own_family": own, "unseen_families": main["families"], "by_kind": value_parts,
            "mean_auc": main["mean_auc"], "reversed_detectors": main["reversed_detectors"],
            "summary": f"the largest AUC among the {kind} detectors trained only on generator families other than '{own}' "
                       "(the model's own family is left out: leave-one-generator-out); each detector's AUC is in the matrix. "
                       "The largest, not the mean: a mean would average a detector that transfers with one whose sign is "
                       "inverted into a number that reads as chance." + _reversed_note(main["reversed_detectors"]),
            "matrices": matrices,
            "tables": [{"title": m["title"], "columns": ["detector", "AUC", "95% CI", "reversed"],
                        "rows": [[row, c["value"], _fmt_ci(c), c["reversed"]] for row, c in m["cells"].items()]} for m in matrices],
        },
    )


# ---- robustness of detection --------------------------------------------------------------------


@check("deepfake.detection_robustness", families=IMAGE_FAMILIES, needs=(SAMPLE,), unit="AUC")
def detection_robustness(ctx: CheckContext, detector: str = PRIMARY_DETECTOR) -> Measurement:
    """Detector AUC when real and fake images pass through JPEG, blur, noise and resizing (severities 0-5, CIs)."""
    from audit.deepfake.perturbations import PERTURBATIONS, SEVERITIES, perturb

    det = _detector(ctx, detector)
    real_x, fake_x = _real(ctx)[0], _fakes(ctx).images
    real = np.empty((len(PERTURBATIONS), len(SEVERITIES), len(real_x)))
    fake = np.empty((len(PERTURBATIONS), len(SEVERITIES), len(fake_x)))
    for p, name in enumerate(PERTURBATIONS):
        for s in SEVERITIES:
            seed = ctx.rng_seed(f"deepfake.perturb:{name}:{s}")
            real[p, s] = _real_scores(ctx, detector) if s == 0 else ctx.store.memo(  # the same for every model of a run
                "deepfake.real_perturbed_scores", (detector, name, s, seed), lambda: det.score(perturb(real_x, name, s, seed)), shared=True)
            fake[p, s] = _fake_scores(ctx, detector) if s == 0 else det.score(perturb(fake_x, name, s, seed + 1))

    def aucs(ri: np.ndarray, fi: np.ndarray) -> np.ndarray:
        return np.array([[mia_auc(fake[p, s, fi], real[p, s, ri]) for s in SEVERITIES] for p in range(len(PERTURBATIONS))])

    point = aucs(np.arange(len(real_x)), np.arange(len(fake_x)))
    boot = None
    if ctx.bootstrap > 0:
        rng = np.random.default_rng(ctx.rng_seed("deepfake.detection_robustness"))
        boot = np.stack([aucs(rng.integers(0, len(real_x), len(real_x)), rng.integers(0, len(fake_x), len(fake_x)))
                         for _ in range(ctx.bootstrap)])
    value = float(point[:, 1:].mean())
    low, high = _interval(value, None if boot is None else boot[:, :, 1:].mean(axis=(1, 2)))
    series = {}
    for p, name in enumerate(PERTURBATIONS):
        series[name] = [{"x": float(s), **_cell(point[p, s], None if boot is None else boot[:, p, s])} for s in SEVERITIES]
    by = [_cell(point[p, 1:].mean(), None if boot is None else boot[:, p, 1:].mean(axis=1)) for p in range(len(PERTURBATIONS))]
    clean = _cell(point[0, 0], None if boot is None else boot[:, 0, 0])
    clean.update(_reversal(clean))
    return Measurement(
        value, low, high, n=len(real_x) + len(fake_x),
        by_group=group_frame(PERTURBATIONS, [c["value"] for c in by], [c["ci_low"] for c in by], [c["ci_high"] for c in by], value),
        details={
            "detector": detector, "clean_auc": float(point[0, 0]), "clean": clean,
            "summary": f"mean AUC of {detector} over {', '.join(PERTURBATIONS)} at severities 1-5 (severity 0 = clean); "
                       "real and fake images processed alike"
                       + (" -- the detector is reversed on the clean samples (AUC CI entirely below 0.5: separable, sign "
                          "inverted), so an AUC rising towards 0.5 under processing is separation lost, not detection gained"
                          if clean["reversed"] else ""),
            "charts": [{"title": f"{detector} AUC under processing", "x_label": "severity", "y_label": "AUC", "series": series}],
        },
    )


# ---- detector fairness --------------------------------------------------------------------------


def _fake_classes(ctx: CheckContext) -> tuple[np.ndarray, str]:
    samples = ctx.samples()
    if samples.labels is not None and has_capability(ctx.adapter, CONDITIONAL):
        return samples.labels.numpy(), "the label each sample was generated for"
    return np.asarray(ctx.embedding().predictions), "the evaluator's class prediction (unconditional model)"


def equalized_odds_gap(y_true: np.ndarray, y_pred: np.ndarray, codes: np.ndarray) -> float:
    """fairlearn's `equalized_odds_difference` (the larger of the between-group ranges of TPR and
    FPR) by counting, ~100x faster for the bootstrap; `codes` are group indices 0..k-1. A group
    with no positives (negatives) has no TPR (FPR) and is left out of that range (fairlearn would
    count it as 0; with 36 images per class per side a resample never drops a class)."""
    k = int(codes.max()) + 1
    gap = 0.0
    for label in (1, 0):
        mask = y_true == label
        counts = np.bincount(codes[mask], minlength=k)
        hits = np.bincount(codes[mask], weights=y_pred[mask].astype(np.float64), minlength=k)
        rates = hits[counts > 0] / counts[counts > 0]
        if len(rates):
            gap = max(gap, float(rates.max() - rates.min()))
    return gap


@check("deepfake.detector_fairness", families=IMAGE_FAMILIES, needs=(SAMPLE,), higher_is_better=False, unit="equalized odds difference")
def detector_fairness(ctx: CheckContext, detector: str = PRIMARY_DETECTOR) -> Measurement:
    """Detection rates by digit class (fairlearn MetricFrame): equalized odds difference of the calibrated detector."""
    from fairlearn.metrics import MetricFrame, equalized_odds_difference, false_positive_rate, true_positive_rate

    det = _detector(ctx, detector)
    real_x, real_y = _real(ctx)
    if real_y is None:
        raise NotApplicable("detector fairness needs class labels for the held-out real images")
    _fakes(ctx)
    fake_y, fake_source = _fake_classes(ctx)
    scores = np.concatenate([_real_scores(ctx, detector), _fake_scores(ctx, detector)])
    y_true = np.concatenate([np.zeros(len(real_y), int), np.ones(len(fake_y), int)])
    y_pred = (scores >= det.threshold).astype(int)
    groups = np.concatenate([real_y, fake_y]).astype(int)
    n_real = len(real_y)
    value = float(equalized_odds_difference(y_true, y_pred, sensitive_features=groups))
    codes = np.unique(groups, return_inverse=True)[1]

    def statistic(ri: np.ndarray, fi: np.ndarray) -> float:
        idx = np.concatenate([ri, n_real + fi])
        return equalized_odds_gap(y_true[idx], y_pred[idx], codes[idx])

    boot = _index_bootstrap(statistic, n_real, len(fake_y), ctx.bootstrap, ctx.rng_seed("deepfake.detector_fairness"))
    low, high = _interval(value, boot)
    frame = MetricFrame(metrics={"tpr": true_positive_rate, "fpr": false_positive_rate}, y_true=y_true, y_pred=y_pred,
                        sensitive_features=groups)
    by_class = frame.by_group
    tpr = {str(c): float(by_class.loc[c, "tpr"]) for c in by_class.index}
    fpr = {str(c): float(by_class.loc[c, "fpr"]) for c in by_class.index}
    counts = {str(c): (int((real_y == c).sum()), int((fake_y == c).sum())) for c in by_class.index}
    cis = [wilson_ci(int(round(rate * counts[c][1])), counts[c][1]) if counts[c][1] else (None, None) for c, rate in tpr.items()]
    return Measurement(
        value, low, high, n=len(y_true),
        by_group=group_frame(
            [f"class {c}" for c in tpr], list(tpr.values()), [ci[0] for ci in cis], [ci[1] for ci in cis], float(frame.overall["tpr"]),
            counts=[counts[c][1] for c in tpr], metric="true-positive rate (fakes flagged) by class",
        ),
        details={
            "detector": detector, "threshold": float(det.threshold), "fake_classes_from": fake_source,
            "summary": "fairlearn equalized_odds_difference: the larger of the between-class gaps in true-positive rate "
                       "(fakes caught) and false-positive rate (real digits flagged) at the calibrated threshold",
            "tpr_by_class": tpr, "fpr_by_class": fpr,
            "tables": [{"title": "Detection rates by class", "columns": ["class", "TPR (fakes flagged)", "FPR (real flagged)", "n real", "n fake"],
                        "rows": [[c, tpr[c], fpr[c], counts[c][0], counts[c][1]] for c in tpr]}],
        },
    )


# ---- image watermark ----------------------------------------------------------------------------


@check("deepfake.image_watermark", families=IMAGE_FAMILIES, needs=(SAMPLE,), higher_is_better=True, unit="detection rate")
def image_watermark(ctx: CheckContext) -> Measurement:
    """Keyed DCT watermark embedded in this model's samples: detection rate, false positives on real digits, PSNR, survival curves."""
    from audit.deepfake import watermark_image as wm
    from audit.deepfake.perturbations import PERTURBATIONS, SEVERITIES, perturb

    key = ctx.rng_seed("deepfake.image_watermark.key")
    fake_x = _fakes(ctx).images
    marked = wm.embed(fake_x, key)
    detected = wm.detect(marked, key)
    hits, n = int(detected.sum()), len(detected)
    low, high = wilson_ci(hits, n)
    real_x = _real(ctx)[0]
    false = int(wm.detect(real_x, key).sum())
    unmarked_false = int(wm.detect(fake_x, key).sum())
    fp_low, fp_high = wilson_ci(false, len(real_x))
    psnr = wm.psnr(fake_x, marked)
    evaluator = ctx.store.evaluator
    agreement = float((evaluator.embed(marked).predictions == ctx.embedding().predictions).mean())
    series, survival = _survival(PERTURBATIONS, SEVERITIES, n, lambda name, s: hits if s == 0 else int(
        wm.detect(perturb(marked, name, s, ctx.rng_seed(f"deepfake.wm:{name}:{s}")), key).sum()))
    return Measurement(
        hits / n, low, high, n=n,
        details={
            "key": "derived from the run seed", "z_threshold": wm.Z_THRESHOLD, "strength": wm.STRENGTH,
            "false_positive_rate_real": {"value": false / len(real_x), "ci_low": fp_low, "ci_high": fp_high, "n": len(real_x),
                                         "bound": wm.FPR_BOUND},
            "false_positives_unmarked_samples": {"count": unmarked_false, "n": n},
            "psnr_db": {"median": float(np.median(psnr)), "min": float(np.min(psnr))},
            "evaluator_class_agreement": agreement, "survival": survival,
            "summary": "share of this model's samples, watermarked with a keyed DCT spread-spectrum pattern, that the detector "
                       f"finds (z > {wm.Z_THRESHOLD}); Wilson CI",
            "charts": [{"title": "Image watermark survival under processing", "x_label": "severity", "y_label": "detection rate",
                        "series": series}],
        },
    )


# ---- machine-generated text ---------------------------------------------------------------------


def _text_pairs(ctx: CheckContext, prompts: int, temperature: float = 1.0) -> tuple[list[str], list[str], list[str]]:
    """(prompts, machine continuations, human continuations), word-matched: each pair cut to the
    same number of words. Generated once per run and temperature by seeded sampling."""
    from audit.metrics.text import continuation_task
    from audit.text_generation import generate_cached, heldout_documents

    count = min(int(prompts), int(ctx.n))

    def compute() -> tuple[list[str], list[str], list[str]]:
        documents, _ = heldout_documents(ctx)
        items = continuation_task(documents, TEXT_PROMPT_WORDS, TEXT_WORDS)[:count]
        if len(items) < 4:
            raise ValueError(f"machine-text detection needs at least 4 held-out documents of {TEXT_PROMPT_WORDS + TEXT_WORDS}+ words")
        kwargs = {"temperature": float(temperature)} if accepts(ctx.adapter.generate, "temperature") else {}
        outputs = generate_cached(ctx, [it.prompt for it in items], TEXT_MAX_TOKENS, ctx.seed, **kwargs)[0]
        machine, human, kept = [], [], []
        for it, out in zip(items, outputs):
            k = min(len(out.split()), len(it.reference.split()))
            if k >= 8:
                machine.append(" ".join(out.split()[:k]))
                human.append(" ".join(it.reference.split()[:k]))
                kept.append(it.prompt)
        return kept, machine, human

    return ctx.memo("deepfake.text_pairs", compute, count, float(temperature))


@check("deepfake.machine_text", families=("transformer",), needs=(GENERATE, CAUSAL_LM), unit="AUC")
def machine_text(ctx: CheckContext, score: str = "log_rank", prompts: int = TEXT_PROMPTS, temperature: float = 1.0) -> Measurement:
    """Zero-shot machine-text detection (log-rank / log-likelihood under the model): AUC of its continuations vs human text."""
    from audit.deepfake.machine_text import scores_for_adapter

    _, machine, human = _text_pairs(ctx, prompts, temperature)
    scored = scores_for_adapter(ctx.adapter, machine + human)
    if score not in scored:
        raise ValueError(f"unknown score '{score}'; valid: {', '.join(sorted(scored))}")
    k = len(machine)
    signed = {name: (-v if name == "log_rank" else v) for name, v in scored.items()}  # higher = more machine-like
    per, series = {}, {}
    for name, v in signed.items():
        point = mia_auc(v[:k], v[k:])
        boot = _index_bootstrap(lambda hi, mi, v=v: mia_auc(v[:k][mi], v[k:][hi]), k, k, ctx.bootstrap, ctx.rng_seed(f"deepfake.mt:{name}"))
        per[name] = _cell(point, boot)
        series[name] = _roc_series(v[k:], v[:k])
    series["chance"] = _chance()
    main = per[score]
    return Measurement(
        main["value"], main["ci_low"], main["ci_high"], n=2 * k,
        details={
            "score": score, "by_score": per, "pairs": k, "temperature": float(temperature),
            **_reversal(main),
            "summary": f"ROC AUC of the zero-shot {score} detector (scored by the model itself; machine = more likely, lower "
                       f"rank) on its continuations of held-out story prompts sampled at temperature {temperature} vs the "
                       f"stories' own next {TEXT_WORDS} words (word-matched pairs); 0.5 = this detector at chance. Below 0.5 the model's "
                       "samples are *less* likely than human text (pure sampling from a small model, Holtzman et al. 2020): a "
                       "detector that knows the decoding would flip its rule and reach `reversed_auc`",
            "charts": [{"title": "ROC: zero-shot machine-text detection", "x_label": "false positive rate",
                        "y_label": "true positive rate", "series": series}],
        },
    )


@check("deepfake.text_watermark", families=("transformer",), needs=(GENERATE, TOKENIZER, CAUSAL_LM), higher_is_better=True, unit="detection rate")
def text_watermark(ctx: CheckContext, prompts: int = TEXT_PROMPTS, max_new_tokens: int = WATERMARK_TEXT_TOKENS) -> Measurement:
    """Green-list watermark (Kirchenbauer et al., 2023): detection rate on watermarked generations, false positives, survival."""
    from audit.deepfake import watermark_text as wt
    from audit.robustness.text import PERTURBATIONS as TEXT_PERTURBATIONS
    from audit.robustness.text import SEVERITIES as TEXT_SEVERITIES
    from audit.robustness.text import perturb
    from audit.text_generation import checked_generations, generate_cached

    adapter = ctx.adapter
    if not accepts(adapter.generate, "logits_processor"):
        raise NotApplicable(f"model '{ctx.model}' generate() takes no logits_processor: the green-list watermark edits each step's logits")
    vocab = int(adapter.model.config.vocab_size)
    green = wt.GreenList(vocab, ctx.rng_seed("deepfake.text_watermark.key"))
    prompt_texts, _, human = _text_pairs(ctx, prompts)

    def z_of(text: str) -> float:
        return wt.text_z_score(green, adapter.tokenizer, text)

    def found(text: str) -> bool:
        return wt.detect_text(green, adapter.tokenizer, text)

    marked = ctx.memo("deepfake.watermarked_text", lambda: checked_generations(
        ctx.model, prompt_texts, adapter.generate(prompt_texts, int(max_new_tokens), ctx.seed, logits_processor=green)), int(max_new_tokens))
    plain = ctx.memo("deepfake.plain_text", lambda: generate_cached(ctx, prompt_texts, int(max_new_tokens), ctx.seed)[0], int(max_new_tokens))
    z_marked = np.array([z_of(t) for t in marked])
    z_plain = np.array([z_of(t) for t in plain])
    z_human = np.array([z_of(t) for t in human])
    n = len(z_marked)
    hits = sum(found(t) for t in marked)
    low, high = wilson_ci(hits, n)
    fp_h, fp_p = sum(found(t) for t in human), sum(found(t) for t in plain)
    series, survival = _survival(list(TEXT_PERTURBATIONS), TEXT_SEVERITIES, n, lambda name, s: hits if s == 0 else int(sum(
        found(perturb(t, name, s, ctx.rng_seed(f"deepfake.twm:{name}:{s}") + i)) for i, t in enumerate(marked))))
    return Measurement(
        hits / n, low, high, n=n,
        details={
            "gamma": green.gamma, "delta": green.delta, "z_threshold": wt.Z_THRESHOLD, "fpr_bound": wt.FPR_BOUND,
            "min_scored_tokens": wt.MIN_TOKENS,
            "max_new_tokens": int(max_new_tokens),
            "false_positives_human": {"count": fp_h, "n": len(z_human), "ci": list(wilson_ci(fp_h, len(z_human)))},
            "false_positives_unwatermarked": {"count": fp_p, "n": n, "ci": list(wilson_ci(fp_p, n))},
            "z_mean": {"watermarked": float(z_marked.mean()), "unwatermarked": float(z_plain.mean()), "human": float(z_human.mean())},
            "survival": survival,
            "summary": f"share of watermarked generations ({max_new_tokens} new tokens, re-tokenised) with at least "
                       f"{wt.MIN_TOKENS} distinct scored token pairs and a green-token z-score above {wt.Z_THRESHOLD}; Wilson CI",
            "charts": [{"title": "Text watermark survival under perturbations", "x_label": "severity", "y_label": "detection rate",
                        "series": series}],
        },
    )


# ---- adversarial evasion ------------------------------------------------------------------------


@check("deepfake.detector_evasion", families=IMAGE_FAMILIES, needs=(SAMPLE,), higher_is_better=False, unit="evasion rate")
def detector_evasion(ctx: CheckContext, epsilon: float = 0.02, detector: str = PRIMARY_DETECTOR) -> Measurement:
    """FGSM and PGD (L-inf) against the detector: share of this model's caught samples made to pass as real, vs epsilon."""
    import torch

    from audit.robustness.adversarial import EPSILONS, PGD_STEPS, fgsm, pgd

    if float(epsilon) not in EPSILONS:
        raise ValueError(f"epsilon must be one of {EPSILONS}, got {epsilon}")
    det = _detector(ctx, detector)
    x = _fakes(ctx).images
    caught = _fake_scores(ctx, detector) >= det.threshold
    x = x[torch.from_numpy(caught)]
    if len(x) == 0:
        real, fake = _real_scores(ctx, detector), _fake_scores(ctx, detector)
        auc = _cell(mia_auc(fake, real), _index_bootstrap(lambda ri, fi: mia_auc(fake[fi], real[ri]), len(real), len(fake),
                                                         ctx.bootstrap, ctx.rng_seed("deepfake.detector_evasion:auc")))
        side = (": reversed (CI below 0.5), the samples are separable from real digits with the detector's sign inverted, "
                "see deepfake.detectability" if _reversal(auc)["reversed"] else "")
        raise NotApplicable(f"{detector} flags none of model '{ctx.model}''s samples at its threshold, so there is no caught sample "
                            f"to attack; its AUC on them vs real digits is {auc['value']:.3f}{' ' + _fmt_ci(auc) if _fmt_ci(auc) else ''}{side}")
    fake = torch.ones(len(x), dtype=torch.long)

    def two_class_logits(images: torch.Tensor) -> torch.Tensor:
        logit = det.logits(images)
        return torch.stack([torch.zeros_like(logit), logit], dim=1)

    series, rows = {}, {}
    for name, attack in (("fgsm", fgsm), ("pgd", pgd)):
        pts = []
        for eps in EPSILONS:
            evaded = int((det.score(attack(two_class_logits, x, fake, eps)) < det.threshold).sum())
            low, high = wilson_ci(evaded, len(x))
            pts.append({"x": eps, "value": evaded / len(x), "ci_low": low, "ci_high": high})
        series[name] = pts
        rows[name] = pts
    main = next(p for p in rows["pgd"] if p["x"] == float(epsilon))
    return Measurement(
        main["value"], main["ci_low"], main["ci_high"], n=len(x),
        details={
            "detector": detector, "epsilon": float(epsilon), "norm": "L-inf, images in [0, 1]", "pgd_steps": PGD_STEPS,
            "caught": int(caught.sum()), "samples": int(len(caught)),
            "summary": f"share of the samples {detector} flags that PGD within epsilon {epsilon} makes it call real (Wilson CI)",
            "charts": [{"title": f"Evading {detector}: success vs epsilon", "x_label": "epsilon (L-inf)",
                        "y_label": "evasion rate", "series": series}],
        },
    )
