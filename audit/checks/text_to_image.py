"""Text-to-image checks: how well each generated image matches the prompt it was made for.

`quality.clip_score` is torchmetrics CLIPScore's definition per image, 100 * max(cos, 0) of the
CLIP image and prompt embeddings, averaged over the run's samples (sample i was generated for
prompt i mod P of `prompts=`). It is listed for the diffusion family (the family of text-to-image
pipelines; a model of family `other` gets it by declaring TEXT_TO_IMAGE). The CLIP model is the check's `clip_model` parameter (a local
CLIPModel folder, set in a suite file) or else the run's `evaluator=clip:<dir>`; with neither,
or a model without TEXT_TO_IMAGE, the check is skipped with the reason. Torch is never imported
here: the embeddings are audit.evaluators.hf_vision's.
"""

from __future__ import annotations

import numpy as np

from audit.adapters.base import SAMPLE, TEXT_TO_IMAGE
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.errors import NotApplicable
from audit.evaluators.hf_vision import HFVisionEvaluator, clip_scores, hf_vision_evaluator
from audit.stats import bootstrap_ci, measurement_ci

CI_COVERS = (
    "a fresh image for each prompt of the same prompt list, scored by the same CLIP model: bootstrap of the "
    "images within their prompts, bias-adjusted percentile"
)
CLIP_MODEL_MEMO = "clip_score.model"
"""Memo name of the CLIP model a `clip_model` parameter names (loaded once per run)."""


def _clip_model(ctx: CheckContext, clip_model: str) -> HFVisionEvaluator:
    """The CLIP model that scores: the `clip_model` folder if given, else the run's clip: evaluator."""
    if clip_model:
        evaluator = ctx.store.memo(CLIP_MODEL_MEMO, clip_model, lambda: hf_vision_evaluator(f"clip:{clip_model}"), shared=True)
        ctx.store.instruments[f"evaluator:{evaluator.name}"] = evaluator.sha256
    else:
        evaluator = ctx.store.evaluator
    if not isinstance(evaluator, HFVisionEvaluator) or not evaluator.embeds_text:
        raise NotApplicable(
            "the CLIP score needs a CLIP model that embeds text: run with evaluator=clip:<folder of a CLIPModel with its "
            "tokenizer>, or set the check's clip_model parameter in a suite file"
        )
    return evaluator


@check("quality.clip_score", families=("diffusion",), needs=(SAMPLE, TEXT_TO_IMAGE), higher_is_better=True)
def clip_score(ctx: CheckContext, clip_model: str = "") -> Measurement:
    """CLIP score: 100 * max(cos, 0) of each image and its prompt in CLIP space, mean with a bootstrap CI."""
    evaluator = _clip_model(ctx, clip_model)
    samples = ctx.samples()
    if samples.prompts is None:
        raise NotApplicable(f"model '{ctx.model}' got no prompts with its samples")
    prompts = list(samples.prompts)
    scores = ctx.memo("clip_score.scores", lambda: clip_scores(evaluator, samples.images, prompts), evaluator.name)
    value = finite_or_raise("CLIP score", float(np.mean(scores)))
    distinct = list(dict.fromkeys(prompts))
    strata = np.array([distinct.index(p) for p in prompts])
    low, high = bootstrap_ci(np.mean, [scores], ctx.bootstrap, ctx.rng_seed("quality.clip_score"), strata=[strata])
    low, high = measurement_ci(low, high, 0.0)
    return Measurement(
        value, low, high, n=len(scores),
        details={
            "clip_model": evaluator.name, "definition": "100 * max(cos(image, prompt), 0) per image (torchmetrics CLIPScore)",
            "n_prompts": len(distinct), "share_zero": float(np.mean(scores == 0.0)), "ci_covers": CI_COVERS,
        },
    )
