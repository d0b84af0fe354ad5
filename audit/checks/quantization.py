"""Quantization: each non-fp32 variant against fp32 of the same model, paired on the same seeds
and inputs.

The fp32 record of the same model is the baseline. Its adapter is built once per run from the
plan item's source, never its display name (`CheckContext.fp32_adapter`, cached in the run's store), and its
samples come from the shared SampleStore under the fp32 key, so a run of `precision=fp32,int8`
generates the fp32 samples once for every check and every variant. On fp32 itself the checks are
`skipped` with reason "baseline" (a delta of fp32 against itself is zero by construction, and
PSNR against itself is infinite); gates on these checks judge the variants.

Images (gan, vae, diffusion): the variant's `sample(n, seed, labels)` and fp32's for the same
seed and labels are compared image by image: PSNR and SSIM (torchmetrics.functional, data range
1, per sample; CIs by bootstrap over samples), and the change in FID against the reference
images, with a paired bootstrap (the same sample indices drawn for both sets in every resample,
within their classes where each holds enough samples: `audit.metrics.resample.usable_strata`; the
reference fixed). An interval a bootstrap cannot give (zero width over samples that differ, or
too few samples for 95%) is marked in details (`ci_degenerate`) and gates judge it inconclusive.

Language models: on the run's held-out documents (`text=`, else the bundled TinyStories held-out
split), each document is fed to both models and the next-token distributions are compared at
every position: KL(fp32 || variant) in nats per token (a token fp32 gives probability 0, e.g. a
masked padded vocabulary id, adds 0; one only the variant rules out makes KL +inf: an error
record) and top-1 agreement; perplexity of both
gives Δperplexity in percent of fp32's. CIs are paired bootstraps over documents (all
per-document sums of both models resampled together). Full next-token distributions need the
`causal_lm` capability (`model`, `encode`, `n_positions`): a language model without it gets
these three checks `skipped` with the reason.

Every model: speedup (fp32 time / variant time for the same workload, timed in interleaved
rounds), weights size ratio and peak-memory ratio (isolated-process probe). The speedup record
carries the quality-versus-speed chart of every variant of the model measured so far in the run.

A variant that changed nothing is not judged (`require_changed`, run by every check before it
measures): where none of the networks modules() returns runs during a small call of the variant
(`network_probe`, counted by `audit.precision.networks_ran`: outputs with noise from torch's
global RNG are never bit-identical, yet come from a hidden network), or where the variant's
outputs are bit-identical to fp32's on the same seeds and inputs
(images: the run's samples the image checks compare; `causal_lm`: next-token logits of the first
PROBE_DOCUMENTS held-out documents; else `log_probs` of them), casting or quantizing `modules()`
did not reach the network the outputs come from (e.g. `modules()` returns a decoy), and every
quantization check of the variant is an error record (`audit.precision.PrecisionChangedNothing`,
the comparison the conformance kit's precision rule makes: `audit.precision.outputs_identical`).
Generated text and tables are not compared: discrete outputs can survive an honest variant unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from audit.adapters.base import CAUSAL_LM, GENERATE, LOG_PROBS, SAMPLE, SAMPLE_TABLE, has_capability
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.errors import ModelOutputError
from audit.families import GENERATOR_FAMILIES, IMAGE_FAMILIES, get_family
from audit.metrics.resample import DEGENERATE_KEY, degenerate_interval, strata_note
from audit.precision import BaselinePrecision, PrecisionChangedNothing, networks_ran, outputs_identical
from audit.stats import bootstrap_ci

BASELINE = "fp32"
PSNR_CAP_DB = 100.0
"""PSNR of an image identical to its fp32 twin is infinite; it is recorded as this cap."""
STORIES = 200
"""Held-out documents the language-model comparisons read at most (and at most n)."""
PROBE_DOCUMENTS = 4
"""Held-out documents whose next-token logits (or log_probs) tell whether a language model's
variant changed anything (a few forward passes: the comparisons then read up to STORIES)."""


def _not_baseline(ctx: CheckContext) -> None:
    """What every check here requires before it measures: the variant is not fp32 itself
    (`skipped`), and it changed the model's outputs (`require_changed`, else an error)."""
    if ctx.precision == BASELINE:
        raise BaselinePrecision(f"baseline: {BASELINE} is the reference this check compares every other precision with")
    require_changed(ctx)


def require_changed(ctx: CheckContext) -> None:
    """PrecisionChangedNothing when the variant's outputs are bit-identical to fp32's on the same
    seeds and inputs (`paired_outputs`), or when none of its modules() ran during a small call of
    it (`network_probe`); computed once per variant, so each of its quantization checks gets the
    same error record. Nothing to compare or call: no verdict."""

    def compute() -> bool:
        paired = paired_outputs(ctx)
        if paired is not None and outputs_identical(paired[1], paired[2]):
            raise PrecisionChangedNothing(ctx.model, ctx.precision, paired[0])
        probe = network_probe(ctx)
        if probe is not None and networks_ran(ctx.adapter, probe[2]) is False:
            raise PrecisionChangedNothing(ctx.model, ctx.precision, probe[0], f"the networks modules() returns did not run while {probe[1]}")
        return paired is not None

    ctx.memo("quantization.changed", compute)


def network_probe(ctx: CheckContext) -> tuple[str, str, Callable[[], Any]] | None:
    """(the call, what it does, a small call of the variant) that runs the networks the model's
    outputs come from: `networks_ran` watches modules() during it. Two samples with the run's
    labels and prompts, next-token logits or log_probs of the first held-out document, a few
    generated tokens or two table rows; None for a model with none of these."""
    import torch

    adapter = ctx.adapter
    if has_capability(adapter, SAMPLE):
        shared = ctx.samples()
        k = min(2, len(shared.images))
        extra: dict[str, Any] = {"labels": None if shared.labels is None else shared.labels[:k]}
        if getattr(shared, "prompts", None):
            extra["prompts"] = list(shared.prompts[:k])
        return f"sample({k})", "sampling", lambda: adapter.sample(k, ctx.seed, **extra)
    if has_capability(adapter, SAMPLE_TABLE):
        return "sample_table(2)", "sampling", lambda: adapter.sample_table(2, ctx.seed)
    documents = list(ctx.heldout_text().documents[:1])
    if not documents:
        return None
    if has_capability(adapter, CAUSAL_LM):
        ids = list(adapter.encode(documents[0]))[:min(16, int(adapter.n_positions))] or [0]
        return "model(input_ids=...)", "scoring", lambda: adapter.model(input_ids=torch.tensor([ids], device=_device(adapter)))
    if has_capability(adapter, LOG_PROBS):
        return "log_probs()", "scoring", lambda: adapter.log_probs(documents)
    if has_capability(adapter, GENERATE):
        return "generate()", "generating", lambda: adapter.generate([documents[0][:200]], 4, ctx.seed)
    return None


def paired_outputs(ctx: CheckContext) -> tuple[str, Any, Any] | None:
    """(the call, fp32's output, the variant's) on the same seeds and inputs: the run's samples
    (shared with the image checks), else next-token logits or log_probs of the first
    PROBE_DOCUMENTS held-out documents; None for a model with none of these."""
    import torch

    if has_capability(ctx.adapter, SAMPLE):
        return "sample()", ctx.store.samples(ctx.fp32_adapter(), _fp32_key(ctx)).images, ctx.samples().images
    if not (has_capability(ctx.adapter, CAUSAL_LM) or has_capability(ctx.adapter, LOG_PROBS)):
        return None
    documents = list(ctx.heldout_text().documents[:PROBE_DOCUMENTS])
    if has_capability(ctx.adapter, CAUSAL_LM):
        reference = ctx.fp32_adapter()
        ids = [x for x in (list(reference.encode(d))[:int(reference.n_positions)] for d in documents) if x]
        if not ids:
            return None

        def logits(adapter: Any) -> list[Any]:
            with torch.no_grad():
                return [adapter.model(input_ids=torch.tensor([x], device=_device(adapter))).logits for x in ids]

        return "model(input_ids=...).logits", logits(reference), logits(ctx.adapter)
    with torch.no_grad():
        return "log_probs()", list(ctx.fp32_adapter().log_probs(documents)), list(ctx.adapter.log_probs(documents))


def _fp32_key(ctx: CheckContext) -> tuple[str, str, int, int]:
    return (ctx.model, BASELINE, ctx.seed, ctx.n)


def _board(ctx: CheckContext) -> dict[str, dict[str, Any]]:
    """Per model, what each variant measured so far (for the quality-versus-speed chart)."""
    return ctx.store.memo("quantization.tradeoff", ctx.model, dict)


def _post(ctx: CheckContext, **values: Any) -> None:
    _board(ctx).setdefault(ctx.precision, {}).update(values)


def _summary(ctx: CheckContext) -> dict[str, Any] | None:
    summary = getattr(ctx.adapter, "quantization", None)
    return summary.to_dict() if summary is not None else None


def _row(name: str, fp32: Any, variant: Any, delta: Any, ci: tuple[float, float] | None) -> list[Any]:
    return [name, fp32, variant, delta, None if ci is None else f"[{ci[0]:.4g}, {ci[1]:.4g}]"]


def _table(ctx: CheckContext, rows: list[list[Any]]) -> dict[str, Any]:
    return {"title": f"{ctx.model}: {BASELINE} vs {ctx.precision} (paired)", "rows": rows,
            "columns": ["metric", BASELINE, ctx.precision, f"delta ({ctx.precision} - {BASELINE})", "95% CI of delta"]}


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x))


def _interval_flags(low: float, high: float, rows: np.ndarray) -> dict[str, str]:
    """{DEGENERATE_KEY: why} when the bootstrap over `rows` cannot give an interval (zero width
    although rows differ, or too few rows: `degenerate_interval`), which gates judge
    inconclusive, never certain; else nothing."""
    why = degenerate_interval(low, high, rows)
    return {DEGENERATE_KEY: why} if why else {}


# --- images ------------------------------------------------------------------------------------


@dataclass
class ImagePairs:
    fp32: Any
    variant: Any
    labels: Any


def image_pairs(ctx: CheckContext) -> ImagePairs:
    _not_baseline(ctx)
    reference = ctx.store.samples(ctx.fp32_adapter(), _fp32_key(ctx))
    variant = ctx.samples()
    return ImagePairs(reference.images, variant.images, variant.labels)


def per_sample_psnr(variant: Any, reference: Any) -> np.ndarray:
    """PSNR in dB of each image against its twin (data range 1), identical pairs at the cap."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    values = peak_signal_noise_ratio(variant.double(), reference.double(), data_range=1.0, reduction="none", dim=(1, 2, 3))
    return np.minimum(np.nan_to_num(values.numpy(), posinf=PSNR_CAP_DB), PSNR_CAP_DB)


def per_sample_ssim(variant: Any, reference: Any) -> np.ndarray:
    """SSIM of each image against its twin (torchmetrics defaults: Gaussian 11x11, sigma 1.5)."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    return structural_similarity_index_measure(variant.double(), reference.double(), data_range=1.0, reduction="none").numpy()


@check("quantization.psnr", families=IMAGE_FAMILIES, needs=(SAMPLE,), higher_is_better=True, unit="dB")
def psnr(ctx: CheckContext) -> Measurement:
    """Mean PSNR of each variant sample against the fp32 sample of the same seed and label (bootstrap CI)."""
    pairs = image_pairs(ctx)
    values = per_sample_psnr(pairs.variant, pairs.fp32)
    low, high = bootstrap_ci(_mean, [values], ctx.bootstrap, ctx.rng_seed("quantization.psnr"))
    value = finite_or_raise("PSNR", float(values.mean()))
    return Measurement(value, low, high, n=len(values), details={
        "reference": f"{BASELINE} samples of the same seed and labels", "data_range": 1.0,
        "identical_pairs": int((values >= PSNR_CAP_DB).sum()), "cap_db": PSNR_CAP_DB,
        "min_db": float(values.min()), "median_db": float(np.median(values)),
        "library": "torchmetrics.functional.image.peak_signal_noise_ratio", "quantization": _summary(ctx),
        "ci": "bootstrap over samples", **_interval_flags(low, high, values),
    })


@check("quantization.ssim", families=IMAGE_FAMILIES, needs=(SAMPLE,), higher_is_better=True, unit="SSIM")
def ssim(ctx: CheckContext) -> Measurement:
    """Mean SSIM of each variant sample against the fp32 sample of the same seed and label (bootstrap CI)."""
    pairs = image_pairs(ctx)
    values = per_sample_ssim(pairs.variant, pairs.fp32)
    low, high = bootstrap_ci(_mean, [values], ctx.bootstrap, ctx.rng_seed("quantization.ssim"))
    return Measurement(finite_or_raise("SSIM", float(values.mean())), low, high, n=len(values), details={
        "reference": f"{BASELINE} samples of the same seed and labels", "min": float(values.min()),
        "library": "torchmetrics.functional.image.structural_similarity_index_measure (Gaussian 11x11, sigma 1.5)",
        "ci": "bootstrap over samples", **_interval_flags(low, high, values),
    })


@check("quantization.delta_fid", families=IMAGE_FAMILIES, needs=(SAMPLE,), higher_is_better=False, unit="FID")
def delta_fid(ctx: CheckContext) -> Measurement:
    """FID of the variant minus FID of fp32 (same seeds, labels, reference), paired bootstrap CI."""
    from audit.metrics import fid_from_features

    _not_baseline(ctx)
    reference_features = ctx.store.embedding(ctx.fp32_adapter(), _fp32_key(ctx)).features
    variant_features = ctx.embedding().features
    real = ctx.real_embedding("train").features
    paired = np.stack([reference_features, variant_features], axis=1)
    strata = ctx.strata()

    def statistic(rows: np.ndarray) -> float:
        return fid_from_features(rows[:, 1], real) - fid_from_features(rows[:, 0], real)

    fid_fp32 = fid_from_features(reference_features, real)
    fid_variant = fid_from_features(variant_features, real)
    value = finite_or_raise("delta FID", fid_variant - fid_fp32)
    low, high = bootstrap_ci(statistic, [paired], ctx.bootstrap, ctx.rng_seed("quantization.delta_fid"), strata=[strata])
    _post(ctx, quality=("delta FID", value, low, high))
    return Measurement(value, low, high, n=len(paired), details={
        "fid_fp32": fid_fp32, "fid_variant": fid_variant, "reference": "train split evaluator features",
        "ci": "paired bootstrap: the same sample indices for both sets in each resample, reference fixed",
        "resampling": strata_note(strata), "quantization": _summary(ctx), **_interval_flags(low, high, paired),
        "tables": [_table(ctx, [_row("FID", fid_fp32, fid_variant, value, (low, high))])],
    })


# --- language models ---------------------------------------------------------------------------


def story_comparison(ctx: CheckContext, stories: int | None) -> np.ndarray:
    """Per held-out document of the run (`ctx.heldout_text()`): [NLL fp32, NLL variant, scored
    tokens, sum KL(fp32||variant), top-1 matches], made once per run for this variant."""
    _not_baseline(ctx)
    documents = ctx.heldout_text().documents
    count = min(int(stories or STORIES), int(ctx.n), len(documents))
    if count < 2:
        raise ValueError(f"the language-model comparison needs at least 2 stories, got {count}")

    def compute() -> np.ndarray:
        return compare_next_token(ctx.fp32_adapter(), ctx.adapter, list(documents[:count]))

    return ctx.memo("quantization.stories", compute, count)


def compare_next_token(reference: Any, variant: Any, texts: list[str]) -> np.ndarray:
    """Feed each text (the adapter's encoding, cut to the context window) to both models and
    compare their next-token distributions position by position."""
    import torch

    window = int(reference.n_positions)
    rows = []
    with torch.no_grad():
        for text in texts:
            ids = reference.encode(text)[:window]
            if len(ids) < 2:
                rows.append([0.0, 0.0, 0, 0.0, 0])
                continue
            x = torch.tensor([ids])
            lf = torch.log_softmax(reference.model(input_ids=x.to(_device(reference))).logits[0, :-1].double().cpu(), dim=-1)
            lv = torch.log_softmax(variant.model(input_ids=x.to(_device(variant))).logits[0, :-1].double().cpu(), dim=-1)
            target = x[0, 1:, None]
            nll_f = -float(lf.gather(-1, target).sum())
            nll_v = -float(lv.gather(-1, target).sum())
            kl = float(next_token_kl(lf, lv).sum())
            top1 = int((lf.argmax(-1) == lv.argmax(-1)).sum())
            rows.append([nll_f, nll_v, len(ids) - 1, kl, top1])
    return np.array(rows, dtype=np.float64)


def next_token_kl(lf: Any, lv: Any) -> Any:
    """KL(fp32 || variant) at each position from log-probabilities [positions, vocabulary]: a token
    fp32 gives probability 0 (a masked, padded vocabulary id: log-probability -inf) adds 0, as
    0 log 0 = 0 (not 0 * (-inf - -inf) = NaN); one the variant gives 0 and fp32 does not adds +inf."""
    import torch

    p = lf.exp()
    terms = torch.where(p > 0, p * (lf - lv), torch.zeros((), dtype=lf.dtype))
    return terms.sum(-1)


def _device(adapter: Any) -> Any:
    return next(adapter.model.parameters()).device


def delta_ppl_pct(rows: np.ndarray) -> float:
    tokens = rows[:, 2].sum()
    return float(100.0 * (np.exp((rows[:, 1].sum() - rows[:, 0].sum()) / tokens) - 1.0))


def kl_per_token(rows: np.ndarray) -> float:
    return float(rows[:, 3].sum() / rows[:, 2].sum())


def top1_share(rows: np.ndarray) -> float:
    return float(rows[:, 4].sum() / rows[:, 2].sum())


def _lm_details(ctx: CheckContext, rows: np.ndarray, ci: tuple[float, float]) -> dict[str, Any]:
    tokens = rows[:, 2].sum()
    return {"stories": len(rows), "tokens": int(tokens), **_interval_flags(*ci, rows),
            "reference": f"{ctx.heldout_text().description}, each fed whole (cut to the context window) to both models",
            "ci": "paired bootstrap over stories (both models' per-story sums resampled together)",
            "perplexity_fp32": float(np.exp(rows[:, 0].sum() / tokens)), "perplexity_variant": float(np.exp(rows[:, 1].sum() / tokens))}


@check("quantization.delta_perplexity_pct", families=("transformer",), needs=(CAUSAL_LM,), higher_is_better=False, unit="%")
def delta_perplexity_pct(ctx: CheckContext, stories: int | None = None) -> Measurement:
    """Perplexity change of the variant relative to fp32 in percent on held-out stories (paired bootstrap CI)."""
    rows = story_comparison(ctx, stories)
    value = finite_or_raise("delta perplexity", delta_ppl_pct(rows))
    low, high = bootstrap_ci(delta_ppl_pct, [rows], ctx.bootstrap, ctx.rng_seed("quantization.delta_perplexity_pct"))
    details = _lm_details(ctx, rows, (low, high))
    p_f, p_v = details["perplexity_fp32"], details["perplexity_variant"]
    details["tables"] = [_table(ctx, [
        _row("perplexity", p_f, p_v, p_v - p_f, None),
        _row("perplexity change (%)", 0.0, value, value, (low, high)),
        _row("KL(fp32 || variant), nats/token", 0.0, kl_per_token(rows), kl_per_token(rows), None),
        _row("top-1 agreement", 1.0, top1_share(rows), top1_share(rows) - 1.0, None),
    ])]
    details["quantization"] = _summary(ctx)
    _post(ctx, quality=("delta perplexity (%)", value, low, high))
    return Measurement(value, low, high, n=len(rows), details=details)


@check("quantization.kl_divergence", families=("transformer",), needs=(CAUSAL_LM,), higher_is_better=False, unit="nats/token")
def kl_divergence(ctx: CheckContext, stories: int | None = None) -> Measurement:
    """Mean per-token KL(fp32 || variant) of next-token distributions on held-out stories (bootstrap CI)."""
    rows = story_comparison(ctx, stories)
    value = kl_per_token(rows)
    if value == float("inf"):
        raise ModelOutputError(f"KL(fp32 || {ctx.precision}) is +inf: the variant gives probability 0 to a next token fp32 gives "
                               "a positive probability (a vocabulary id it masks that fp32 does not)")
    value = finite_or_raise("KL", value)
    low, high = bootstrap_ci(kl_per_token, [rows], ctx.bootstrap, ctx.rng_seed("quantization.kl"))
    return Measurement(value, low, high, n=len(rows), details=_lm_details(ctx, rows, (low, high)))


@check("quantization.top1_agreement", families=("transformer",), needs=(CAUSAL_LM,), higher_is_better=True, unit="share")
def top1_agreement(ctx: CheckContext, stories: int | None = None) -> Measurement:
    """Share of positions where the variant's most likely next token is fp32's (bootstrap CI over stories)."""
    rows = story_comparison(ctx, stories)
    value = top1_share(rows)
    low, high = bootstrap_ci(top1_share, [rows], ctx.bootstrap, ctx.rng_seed("quantization.top1"))
    return Measurement(value, low, high, n=len(rows), details=_lm_details(ctx, rows, (low, high)))


# --- every model: speed, size, memory ----------------------------------------------------------


def speed(ctx: CheckContext, rounds: int | None) -> dict[str, Any]:
    """fp32 and the variant timed on the same workload in interleaved rounds (once per run)."""
    from audit.efficiency.timing import default_workload, interleaved, ratio_of_medians_ci, workload_documents

    _not_baseline(ctx)
    rounds = int(rounds or get_family(ctx.adapter.info.family).speed_rounds)

    def compute() -> dict[str, Any]:
        from audit.text_generation import token_count

        documents = workload_documents(ctx)
        reference = default_workload(ctx.fp32_adapter(), seed=ctx.seed, documents=documents, count_tokens=token_count)
        variant = default_workload(ctx.adapter, seed=ctx.seed, documents=documents, count_tokens=token_count)
        reference.name, variant.name = BASELINE, ctx.precision
        first_calls: dict[str, float] = {}
        times = interleaved([reference, variant], rounds, warmup=1, first_calls=first_calls)  # outputs checked (ModelOutputError)
        # time per unit of work: a variant whose generate() stops sooner is not faster for it
        value, low, high = ratio_of_medians_ci(times[BASELINE] / reference.items, times[ctx.precision] / variant.items,
                                               ctx.bootstrap, ctx.rng_seed("quantization.speedup"))
        return {"value": value, "ci": (low, high), "times": times, "workload": variant.describe, "items": variant.items,
                "items_fp32": reference.items, "unit": variant.unit, "rounds": rounds, "first_calls": first_calls}

    return ctx.memo("quantization.speed", compute, rounds)


@check("quantization.speedup", families=GENERATOR_FAMILIES, higher_is_better=True, unit="x")
def speedup(ctx: CheckContext, rounds: int | None = None) -> Measurement:
    """fp32 time / variant time for the same workload, interleaved rounds (paired bootstrap CI); carries the quality-vs-speed chart."""
    import torch

    from audit.efficiency.timing import warm_up_overhead

    s = speed(ctx, rounds)
    low, high = s["ci"]
    t_f, t_v = float(np.median(s["times"][BASELINE])), float(np.median(s["times"][ctx.precision]))
    _post(ctx, speed=(s["value"], low, high))
    rate = s["unit"] + "/s"
    details = {
        "workload": s["workload"], "rounds": s["rounds"], "threads": int(torch.get_num_threads()),
        "median_s_fp32": t_f, "median_s_variant": t_v, f"{rate}_fp32": s["items_fp32"] / t_f, f"{rate}_variant": s["items"] / t_v,
        "first_call_s_fp32": s["first_calls"][BASELINE], "first_call_s_variant": s["first_calls"][ctx.precision],
        "warm_up_overhead_s_variant": warm_up_overhead(s["first_calls"][ctx.precision], t_v),
        "timing": "one warm-up call each (timed apart: first_call_s_*; the variant's time above its steady-state median, "
                  "warm_up_overhead_s_variant, is torch.compile's compilation where the variant is compiled), "
                  "then rounds alternating fp32 and the variant (order reversed every other round)",
        "ci": "paired bootstrap over rounds of the ratio of medians",
        "tables": [_table(ctx, [_row(rate, s["items_fp32"] / t_f, s["items"] / t_v, s["items"] / t_v - s["items_fp32"] / t_f, None),
                                _row("speedup (x)", 1.0, s["value"], s["value"] - 1.0, (low - 1.0, high - 1.0))])],
        "charts": [tradeoff_chart(ctx)], "quantization": _summary(ctx),
    }
    return Measurement(s["value"], low, high, n=s["rounds"], details=details)


def tradeoff_chart(ctx: CheckContext) -> dict[str, Any]:
    """Quality change against speedup for every variant of this model measured so far in the run
    (fp32 at speedup 1, change 0); one series per precision."""
    board = _board(ctx)
    label = next((v["quality"][0] for v in board.values() if "quality" in v), "quality change")
    series: dict[str, list[dict[str, Any]]] = {BASELINE: [{"x": 1.0, "value": 0.0, "ci_low": 0.0, "ci_high": 0.0}]}
    for precision, values in board.items():
        if "speed" in values and "quality" in values:
            _, q, q_low, q_high = values["quality"]
            series[precision] = [{"x": float(values["speed"][0]), "value": float(q), "ci_low": q_low, "ci_high": q_high}]
    return {"title": f"{ctx.model}: quality vs speed by precision", "x_label": "speedup vs fp32 (x)",
            "y_label": f"{label} vs fp32 (lower is better)", "series": series}


@check("quantization.size_ratio", families=GENERATOR_FAMILIES, higher_is_better=False, unit="ratio")
def size_ratio(ctx: CheckContext) -> Measurement:
    """Weights bytes of the variant / fp32's (whole model; the quantized layers alone in details)."""
    from audit.precision import resolve, weights_bytes

    _not_baseline(ctx)
    reference = ctx.fp32_adapter()
    b_f, b_v = weights_bytes(reference), weights_bytes(ctx.adapter)
    details: dict[str, Any] = {"bytes_fp32": b_f, "bytes_variant": b_v, "quantization": _summary(ctx)}
    summary = getattr(ctx.adapter, "quantization", None)
    if summary is not None and summary.quantized:
        from audit.precision import module_weight_bytes

        layers_f = sum(module_weight_bytes(resolve(reference, name)) for name in summary.quantized)
        layers_v = sum(module_weight_bytes(resolve(ctx.adapter, name)) for name in summary.quantized)
        details.update(quantized_layers_bytes_fp32=layers_f, quantized_layers_bytes_variant=layers_v,
                       quantized_layers_ratio=layers_v / layers_f if layers_f else None)
    rows = [_row("weights (MiB)", b_f / 2**20, b_v / 2**20, (b_v - b_f) / 2**20, None),
            _row("size ratio", 1.0, b_v / b_f, b_v / b_f - 1.0, None)]
    if summary is not None:
        rows.append(_row(f"share of weights quantized ({summary.quantized_params:,} of {summary.total_params:,})",
                         0.0, summary.quantized_share, summary.quantized_share, None))
    details["tables"] = [_table(ctx, rows)]
    return Measurement(b_v / b_f, details=details)


@check("quantization.memory_ratio", families=GENERATOR_FAMILIES, higher_is_better=False, unit="ratio")
def memory_ratio(ctx: CheckContext) -> Measurement:
    """Peak memory to hold and run the variant / fp32's, each measured in an isolated process."""
    from audit.efficiency.memory import peak_memory_of

    _not_baseline(ctx)
    f = peak_memory_of(ctx, ctx.model, BASELINE)
    v = peak_memory_of(ctx, ctx.model, ctx.precision)
    return Measurement(v["run_peak"] / f["run_peak"], details={
        "run_peak_mib_fp32": f["run_peak"] / 2**20, "run_peak_mib_variant": v["run_peak"] / 2**20,
        "load_peak_mib_fp32": f["load_peak"] / 2**20, "load_peak_mib_variant": v["load_peak"] / 2**20,
        "method": v.get("method"), "workload": v.get("workload"),
        "note": "the variant is quantized from float32 weights, so its load peak includes the float model",
        "tables": [_table(ctx, [_row("peak memory running one batch (MiB)", f["run_peak"] / 2**20, v["run_peak"] / 2**20,
                                     (v["run_peak"] - f["run_peak"]) / 2**20, None)])],
    })
