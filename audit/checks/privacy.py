"""Privacy checks: memorisation of training records, membership inference and attribute leakage.

Who is a member. The attacks need the records a model was trained on. For a bundled model the
member set comes from its weights manifest (verified by the weights' sha256): `vae-memorized`
was trained on 48 fixed training digits (`config.memorized_indices`), so exactly those 48 are
its members; every other bundled image model saw the whole digits train split, the transformer
the TinyStories train split less the stories its manifest lists as held back for early stopping
(`config.early_stopping.validation_indices`), which are neither members nor attack non-members.
For any other model the run's reference train split is taken
as the member set (state this assumption when auditing a user's model). Non-members are the
held-out split, which no bundled model saw. Members and non-members are always equally many
(a seeded subsample of at most `mia_n` = 360 of each), so an AUC of 0.5 means "no signal".

Checks (image families gan, vae, diffusion unless stated):
- `privacy.dcr_ratio`: median over generated samples of DCR_train / DCR_heldout (pixel L2), the
  training images split into folds as large as the held-out split and the ratio averaged over
  folds, so ~1 when samples are no closer to the training data than to unseen data, << 1 when
  they sit on training images; distances floored at one grey level per pixel, each ratio capped
  at 10 (a sample equal to a held-out image). Writes a PNG gallery of the closest (sample,
  training image) pairs.
- `privacy.near_copy_rate`: share of samples closer to a training image than 99% of held-out
  real images are (the maths and cached distances of `quality.near_duplicate_rate`; Wilson CI).
  Held-out images with a twin in the training split are left out of that quantile (it would be
  0 otherwise) and an exact copy always counts.
- `privacy.exact_copy_rate`: share of samples within half the smallest held-out distance of a
  training image (at least one grey level per pixel): verbatim copies, which no fresh sample
  makes, so a few percent of them fail where the near-copy rate's 1% base rate would hide them.
- `privacy.mia_auc` / `privacy.mia_tpr_at_1pct_fpr`: a loss-threshold attack chosen by what the
  model declares (image models: the ELBO where it declares `elbo`, else the denoising loss at
  fixed timesteps where it declares `denoising_loss`, else its `log_likelihood`, else -- a GAN
  ships no discriminator -- minus the distance to the nearest generated sample, the GAN-Leaks
  black-box attack; language models: mean per-token NLL from `log_probs`) scored by ROC AUC and
  TPR at 1% FPR, bootstrap CIs over members and non-members; the ROC curve is in `details["charts"]`.
  Both are two-sided: an AUC far below 0.5 (the score's sign flipped, e.g. a loss returned as a
  log-likelihood) is as much a leak as one far above, and the TPR is the better of the score's
  two tails. A negative denoising loss (an MSE) is a contract error.
- `privacy.verbatim_extraction` (transformer): greedy continuations of 32-token prefixes of
  training and held-out stories; the rate of exact 16-token continuations on training stories
  minus the rate on held-out ones (Wilson CIs of both in details). A continuation matches when its
  text or its re-tokenised ids equal the story's (outputs that echo their prompts are refused, as
  by every text check). It needs the `tokenizer` capability and greedy decoding: a model without them,
  or whose tokenizer leaves no story 48 tokens long, is skipped with the reason.
- `privacy.attribute_leakage` (vae, tabular): accuracy above chance of a logistic probe that
  recovers a sensitive attribute from what the model releases (informational: no default gate).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from audit.adapters.base import (
    DENOISING_LOSS, ELBO, ENCODE_DECODE, GENERATE, LOG_LIKELIHOOD, LOG_PROBS, SAMPLE, SAMPLE_TABLE, TOKENIZER, accepts, has_capability,
)
from audit.adapters.images import per_image_scores
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.errors import ModelOutputError, NotApplicable
from audit.families import GENERATOR_FAMILIES, IMAGE_FAMILIES, TEXT, get_family
from audit.metrics.diversity import COPY_QUANTILE, exact_copy_floor, nearest_distances
from audit.metrics.privacy import (
    DCR_RATIO_CAP, DEFAULT_FPR, dcr_ratios, exact_token_match_rate, mia_auc, paired_bootstrap, roc_chart, tpr_at_fpr_two_sided,
)
from audit.pixel_space import exact_copy_measurement, image_rows, near_duplicate_measurement, reference_rows
from audit.stats import bias_adjusted_interval, bootstrap_ci, wilson_ci
from audit.text_generation import generate_cached

MIA_N = 360
"""Members and non-members per attack (the size of the digits held-out split)."""
DIFFUSION_TIMESTEPS = (25, 100, 250)
"""Denoising-loss timesteps (of 1,000): low noise, where a memorising model's loss drops most."""
TEXT_MIA_N = 400
TEXT_MIA_TOKENS = 128
"""Transformer attack: up to 400 stories per side (every one of the 310 bundled held-out stories),
scored on their first 128 tokens (~8 s on 2 cores): the most power the held-out split allows."""
PREFIX_TOKENS = 32
SUFFIX_TOKENS = 16
EXTRACTION_PROMPTS = 100
GALLERY_PAIRS = 16
GALLERY_SCALE = 4


# ---- member sets -------------------------------------------------------------------------------


def bundled_manifest(adapter: Any) -> dict[str, Any] | None:
    """The manifest of a registered model's weights that the adapter loaded (matched by file name
    and sha256 in the folders registered models declare), else None."""
    from audit.registry import models, register_bundled_models
    from audit.weights import read_manifest, weights_dir

    register_bundled_models()
    folders = dict.fromkeys(weights_dir(e.metadata["weights_folder"]) for e in models if e.metadata.get("weights_folder"))
    for file, digest in (getattr(adapter.info, "weights", None) or {}).items():
        for folder in folders:
            try:
                manifest = read_manifest(Path(file).stem, folder)
            except Exception:
                continue
            if manifest.get("file") == file and manifest.get("sha256") == digest:
                return manifest
    return None


def image_member_indices(ctx: CheckContext) -> tuple[np.ndarray, str]:
    """Indices into the reference train split that the model was trained on, and where they come from."""
    ref = ctx.reference
    n_train = len(ref.train_x)
    manifest = bundled_manifest(ctx.adapter)
    if manifest is not None and ref.name == "digits-16x16":
        indices = (manifest.get("config") or {}).get("memorized_indices")
        if indices:
            return np.asarray(indices, np.int64), f"manifest {manifest['name']}: config.memorized_indices ({len(indices)} training images)"
        return np.arange(n_train), f"manifest {manifest['name']}: trained on the whole digits train split"
    return np.arange(n_train), "assumed: the run's reference train split (no bundled manifest for this model)"


def text_member_indices(ctx: CheckContext, n_train: int) -> tuple[np.ndarray, str]:
    """Indices into the TinyStories train split that the language model was trained on: all of
    them, less those its bundled manifest lists as held back for early stopping."""
    manifest = bundled_manifest(ctx.adapter)
    if manifest is None:
        return np.arange(n_train), "assumed: the bundled TinyStories train split (no bundled manifest for this model)"
    held_back = ((manifest.get("config") or {}).get("early_stopping") or {}).get("validation_indices") or []
    members = np.setdiff1d(np.arange(n_train), np.asarray(held_back, np.int64))
    if not held_back:
        return members, f"manifest {manifest['name']}: trained on the whole TinyStories train split"
    return members, (f"manifest {manifest['name']}: the TinyStories train split less the {len(held_back)} stories "
                     "held back for early stopping (config.early_stopping.validation_indices)")


def _balanced(ctx: CheckContext, members: np.ndarray, nonmembers: np.ndarray, cap: int, salt: str) -> tuple[np.ndarray, np.ndarray]:
    """Seeded equal-size subsamples (at most `cap` each) of member and non-member indices, sorted."""
    rng = np.random.default_rng(ctx.rng_seed(salt))
    k = min(len(members), len(nonmembers), int(cap))
    if k < 2:
        raise ValueError(f"membership inference needs at least 2 members and 2 non-members, got {len(members)} and {len(nonmembers)}")
    return np.sort(rng.choice(members, k, replace=False)), np.sort(rng.choice(nonmembers, k, replace=False))


# ---- memorisation: DCR and near copies ---------------------------------------------------------


def _dcr(ctx: CheckContext) -> dict[str, Any]:
    """Per-sample DCR ratios over equal-size folds of the model's training images (memo).

    The training images are split (seeded) into ceil(members / held-out) folds of at most as many
    images as the held-out split; a sample's ratio is the mean over folds of d(sample, fold) /
    d(sample, held-out). Each fold is as large as the held-out set, so a sample that copies nothing
    scores ~1 in every fold; a sample that copies a training image scores 0 in its fold, so even a
    generator that copies the whole training set scores well below 1 (about 1 - 1/folds), and one
    that copies a small member set (vae-memorized: 48 images, one fold) scores near 0. Distances are
    floored at one grey level per pixel and each ratio capped at `DCR_RATIO_CAP`, so a sample that
    copies a held-out image scores the cap, not distance / 1e-12."""

    def compute() -> dict[str, Any]:
        from scipy.spatial.distance import cdist

        fake = image_rows(ctx)
        heldout = reference_rows(ctx, "test")
        train_all = reference_rows(ctx, "train")
        members, source = image_member_indices(ctx)
        rng = np.random.default_rng(ctx.rng_seed("privacy.dcr.folds"))
        folds = np.array_split(rng.permutation(members), int(np.ceil(len(members) / len(heldout))))
        nn_heldout = nearest_distances(fake, heldout)
        d_train = cdist(fake, train_all[members])
        nearest = d_train.argmin(axis=1)
        position = {int(m): i for i, m in enumerate(members)}
        per_fold = np.stack([d_train[:, [position[int(m)] for m in fold]].min(axis=1) for fold in folds], axis=1)
        floor = exact_copy_floor(heldout.shape[1])
        return {"ratios": dcr_ratios(per_fold, nn_heldout[:, None], floor).mean(axis=1), "floor": floor,
                "nn_train": d_train[np.arange(len(fake)), nearest], "nn_train_index": members[nearest],
                "nn_heldout": nn_heldout, "folds": [len(f) for f in folds], "n_heldout": len(heldout), "member_source": source}

    return ctx.memo("privacy.dcr", compute)


def save_pairs_gallery(samples: np.ndarray, neighbours: np.ndarray, path: Path, scale: int = GALLERY_SCALE) -> None:
    """A PNG: row 1 the samples, row 2 their closest training images (one column per pair)."""
    from PIL import Image

    def strip(images: np.ndarray) -> np.ndarray:
        tiles = [img[0] if img.shape[0] == 1 else img.mean(0) for img in images]
        pad = np.ones((tiles[0].shape[0], 1))
        return np.concatenate([np.concatenate([t, pad], axis=1) for t in tiles], axis=1)

    top, bottom = strip(samples), strip(neighbours)
    grid = np.concatenate([top, np.ones((1, top.shape[1])), bottom], axis=0)
    image = Image.fromarray((np.clip(grid, 0, 1) * 255).round().astype(np.uint8))
    image.resize((image.width * scale, image.height * scale), Image.NEAREST).save(path)


def _safe(word: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in word)


@check("privacy.dcr_ratio", families=IMAGE_FAMILIES, needs=(SAMPLE,), higher_is_better=True, unit="DCR train / DCR held-out")
def dcr_ratio(ctx: CheckContext, pairs: int = GALLERY_PAIRS) -> Measurement:
    """Median over samples of (pixel L2 to the closest training image) / (to the closest held-out image), equal-size sets (~1 = no copying; bootstrap CI)."""
    d = _dcr(ctx)
    ratios = d["ratios"]
    median = lambda r: float(np.median(r))
    value = finite_or_raise("DCR ratio", median(ratios))
    low, high = bootstrap_ci(median, [ratios], ctx.bootstrap, ctx.rng_seed("privacy.dcr_ratio"), method="percentile")
    # gallery: the samples closest to a training image, beside that image
    order = np.argsort(d["nn_train"], kind="stable")[: int(pairs)]
    images = ctx.samples().images.numpy()
    train = np.asarray(ctx.reference.train_x, np.float64)
    name = f"{_safe(ctx.model)}-{ctx.precision}-closest-pairs.png"
    ctx.artifact_dir.mkdir(parents=True, exist_ok=True)
    save_pairs_gallery(images[order], train[d["nn_train_index"][order]], ctx.artifact_dir / name)
    return Measurement(value, low, high, n=len(ratios), artifacts={"closest_pairs": f"artifacts/{name}"}, details={
        "definition": ("median_i mean_f d(sample_i, training fold f) / d(sample_i, held-out split), pixel L2, images in [0, 1]; "
                       "the model's training images split into seeded folds no larger than the held-out split"),
        "folds": d["folds"], "n_heldout": d["n_heldout"],
        "reference_note": "each fold is the held-out split's size, so a generator that copies nothing scores ~1; "
                          "one that copies every training image scores about 1 - 1/folds, one that copies a small set ~0",
        "member_source": d["member_source"],
        "median_dcr_all_training": float(np.median(d["nn_train"])), "median_dcr_heldout": float(np.median(d["nn_heldout"])),
        "share_ratio_below_0.5": float((ratios < 0.5).mean()),
        "distance_floor_l2": d["floor"], "ratio_cap": DCR_RATIO_CAP,
        "share_heldout_copies": float((d["nn_heldout"] <= d["floor"]).mean()),
        "floor_note": "distances below one grey level per pixel count as that floor (a copy), each ratio is capped: "
                      "a sample equal to a held-out image scores the cap, no evidence of copying training data",
        "gallery": f"top row: the {len(order)} samples closest to a training image; bottom row: that training image",
        "closest_pairs_l2": [float(v) for v in d["nn_train"][order]],
        "ci": "percentile bootstrap over samples",
    })


@check("privacy.near_copy_rate", families=IMAGE_FAMILIES, needs=(SAMPLE,), higher_is_better=False, unit="share of samples")
def near_copy_rate(ctx: CheckContext, quantile: float = COPY_QUANTILE) -> Measurement:
    """Share of samples closer (pixel L2) to a training image than 99% of held-out images are (~0.01 when fresh; Wilson CI)."""
    m = near_duplicate_measurement(ctx, quantile)  # the same measurement (and cached distances) as the quality suite's
    m.details.update({"reference": "the whole train split", "same_as": "quality.near_duplicate_rate"})
    return m


@check("privacy.exact_copy_rate", families=IMAGE_FAMILIES, needs=(SAMPLE,), higher_is_better=False, unit="share of samples")
def exact_copy_rate(ctx: CheckContext) -> Measurement:
    """Share of samples that are verbatim copies of a training image: pixel L2 below half the smallest held-out distance (~0 when fresh; Wilson CI)."""
    m = exact_copy_measurement(ctx)
    m.details.update({"reference": "the whole train split",
                      "why": "privacy.near_copy_rate counts a bit-exact copy like a sample at its 1% quantile, so a few percent "
                             "of verbatim copies hide in its base rate; this counts only samples no fresh image comes near"})
    return m


# ---- membership inference ----------------------------------------------------------------------


def _image_attack(ctx: CheckContext, cap: int) -> dict[str, Any]:
    """Scores (higher = member) of equal-size member / non-member digit sets, by the loss the
    model declares (memo)."""
    import torch

    family = get_family(ctx.adapter.info.family)

    def compute() -> dict[str, Any]:
        ref = ctx.reference
        member_idx, source = image_member_indices(ctx)
        mem, non = _balanced(ctx, member_idx, np.arange(len(ref.test_x)), cap, "privacy.mia.members")
        xm = torch.tensor(np.asarray(ref.train_x)[mem], dtype=torch.float32)
        xn = torch.tensor(np.asarray(ref.test_x)[non], dtype=torch.float32)
        if has_capability(ctx.adapter, ELBO):
            score = lambda x: per_image_scores(ctx.model, "elbo", ctx.adapter.elbo(x), len(x))
            attack = "loss threshold: the ELBO of each image (nats; higher = member)"
        elif has_capability(ctx.adapter, DENOISING_LOSS):
            score = lambda x: -_denoising_loss(ctx.adapter, x)
            attack = (f"loss threshold: minus the mean denoising (epsilon-prediction) MSE at timesteps {list(DIFFUSION_TIMESTEPS)} "
                      "of 1,000, fixed noise seed, unconditional (null label)")
        elif has_capability(ctx.adapter, LOG_LIKELIHOOD):
            if family.likelihood_bound:
                keep = family.bound_images
                mem, non, xm, xn = mem[:keep], non[:keep], xm[:keep], xn[:keep]
            score = lambda x: per_image_scores(ctx.model, "log_likelihood", ctx.adapter.log_likelihood(x), len(x))
            attack = f"loss threshold: the adapter's log_likelihood (a bound on log p(x); no {ELBO} or {DENOISING_LOSS} declared)"
        else:
            fake = image_rows(ctx)
            score = lambda x: -nearest_distances(x.double().numpy().reshape(len(x), -1), fake)
            attack = (f"black-box distance attack (GAN-Leaks): minus the pixel L2 distance to the nearest of the run's {len(fake)} "
                      "generated samples (no discriminator ships with the model)")
        sm, sn = np.asarray(score(xm), np.float64).reshape(-1), np.asarray(score(xn), np.float64).reshape(-1)
        if not (np.isfinite(sm).all() and np.isfinite(sn).all()):
            raise ModelOutputError(f"model '{ctx.model}' gave non-finite membership scores")
        return {"members": sm, "nonmembers": sn, "attack": attack, "member_source": source}

    return ctx.memo("privacy.mia_scores", compute, cap)


def _denoising_loss(adapter: Any, x: Any, timesteps: tuple[int, ...] = DIFFUSION_TIMESTEPS, seed: int = 0) -> np.ndarray:
    """Per image: mean over `timesteps` of the declared `denoising_loss` (epsilon-prediction MSE,
    unconditional), with standard normal noise drawn in turn from one generator seeded `seed`."""
    import torch

    g = torch.Generator().manual_seed(seed)
    losses = []
    for t in timesteps:
        noise = torch.randn(x.shape, generator=g)
        loss = per_image_scores(adapter.info.name, "denoising_loss", adapter.denoising_loss(x, int(t), noise), len(x))
        if (loss < 0).any():
            raise ModelOutputError(
                f"model '{adapter.info.name}' denoising_loss(x, t={int(t)}, noise) returned {int((loss < 0).sum())} negative values "
                f"(min {loss.min():.4g}) for {len(x)} images: a mean squared error is >= 0 (return the loss, not its negation)")
        losses.append(loss)
    return np.mean(losses, axis=0)


def first_words(text: str, words: int) -> str:
    """`text` up to the end of its `words`-th whitespace-separated word (all of it if shorter)."""
    import re

    ends = [m.end() for m in re.finditer(r"\S+", text)]
    return text if len(ends) <= words else text[: ends[words - 1]]


def leading_token_logprob(adapter: Any, texts: list[str], tokens: int) -> np.ndarray:
    """Mean log-probability of each text's first `tokens` tokens, from the documented
    `log_probs` alone. Every word is at least one token and tokenizers split at word boundaries,
    so scoring the first `tokens` words gives the same first `tokens` scores as the whole text,
    at a fraction of the cost."""
    from audit.lm.log_probs import checked_log_probs

    scores = checked_log_probs(adapter, [first_words(t, tokens) for t in texts])
    out = np.array([float(s[:tokens].double().mean()) if len(s) else np.nan for s in scores])
    if not np.isfinite(out).all():
        raise ModelOutputError(f"log_probs returned no or non-finite scores for {int((~np.isfinite(out)).sum())} membership-inference texts")
    return out


def _text_attack(ctx: CheckContext, cap: int, tokens: int) -> dict[str, Any]:
    """Minus the mean per-token NLL of the first `tokens` tokens of train vs held-out stories (memo)."""

    def compute() -> dict[str, Any]:
        from audit.datasets import load_dataset

        split = load_dataset("tinystories")
        members, source = text_member_indices(ctx, len(split.train))
        mem, non = _balanced(ctx, members, np.arange(len(split.heldout)), cap, "privacy.mia.text")

        def score(stories: list[str]) -> np.ndarray:
            return leading_token_logprob(ctx.adapter, stories, tokens)

        return {"members": score([split.train[i] for i in mem]), "nonmembers": score([split.heldout[i] for i in non]),
                "attack": f"loss threshold: minus the mean per-token NLL of each story's first {tokens} tokens",
                "member_source": source}

    return ctx.memo("privacy.mia_text_scores", compute, cap, tokens)


def _attack(ctx: CheckContext, n: int | None, tokens: int) -> dict[str, Any]:
    if get_family(ctx.adapter.info.family).modality == TEXT:
        if not has_capability(ctx.adapter, LOG_PROBS):
            raise NotApplicable(f"model '{ctx.model}' does not declare {LOG_PROBS}: the text attack scores each story's per-token log-probabilities")
        return _text_attack(ctx, int(n) if n is not None else TEXT_MIA_N, int(tokens))
    return _image_attack(ctx, int(n) if n is not None else MIA_N)


def _mia_details(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "attack": a["attack"], "members": len(a["members"]), "nonmembers": len(a["nonmembers"]), "member_source": a["member_source"],
        "nonmember_source": "the held-out split (never trained on)",
        "mean_score_members": float(a["members"].mean()), "mean_score_nonmembers": float(a["nonmembers"].mean()),
        "charts": [roc_chart(a["members"], a["nonmembers"], "Membership-inference ROC")],
        "ci": "bootstrap over members and non-members, resampled independently",
    }


INVERTED_NOTE = ("an AUC far below 0.5 separates members as well as one far above it, with the score's sign flipped "
                 "(e.g. an adapter returning a loss where the contract documents a log-likelihood): a leak either way, "
                 "so the default gate bounds the AUC on both sides of 0.5. For the distance attack, whose score the "
                 "harness computes, it means the samples sit nearer held-out images than training ones: a model that "
                 "saw the held-out split, or splits that differ where the generator concentrates (a mode-collapsed one)")


@check("privacy.mia_auc", families=GENERATOR_FAMILIES, higher_is_better=None, unit="ROC AUC")
def mia_auc_check(ctx: CheckContext, n: int | None = None, tokens: int = TEXT_MIA_TOKENS) -> Measurement:
    """Membership-inference ROC AUC of a loss-threshold attack, members vs held-out (0.5 = no leak, far from 0.5 either way = leak; bootstrap CI)."""
    from sklearn.metrics import roc_auc_score

    a = _attack(ctx, n, tokens)
    m, nm = a["members"], a["nonmembers"]
    value = float(roc_auc_score(np.r_[np.ones(len(m)), np.zeros(len(nm))], np.r_[m, nm]))
    low = high = float("nan")
    if ctx.bootstrap > 0:
        low, high = bias_adjusted_interval(value, paired_bootstrap(mia_auc, m, nm, ctx.bootstrap, ctx.rng_seed("privacy.mia_auc")))
        low, high = max(low, 0.0), min(high, 1.0)
    details = _mia_details(a)
    details.update({"inverted": value < 0.5, "two_sided_auc": max(value, 1.0 - value), "inverted_note": INVERTED_NOTE})
    return Measurement(value, low, high, n=len(m) + len(nm), details=details)


@check("privacy.mia_tpr_at_1pct_fpr", families=GENERATOR_FAMILIES, higher_is_better=False, unit="true positive rate")
def mia_tpr_at_1pct_fpr(ctx: CheckContext, n: int | None = None, tokens: int = TEXT_MIA_TOKENS, fpr: float = DEFAULT_FPR) -> Measurement:
    """Membership-inference true-positive rate at 1% false-positive rate, the better of both score tails (~0.01 = no leak; bootstrap CI)."""
    a = _attack(ctx, n, tokens)
    m, nm = a["members"], a["nonmembers"]
    stat = lambda x, y: tpr_at_fpr_two_sided(x, y, float(fpr))[0]
    value, tail = tpr_at_fpr_two_sided(m, nm, float(fpr))
    low = high = float("nan")
    if ctx.bootstrap > 0:
        boot = paired_bootstrap(stat, m, nm, ctx.bootstrap, ctx.rng_seed("privacy.mia_tpr"))
        low, high = (float(v) for v in np.quantile(boot, [0.025, 0.975]))
        low, high = min(low, value), max(high, value)
    details = _mia_details(a)
    details.update({"fpr": float(fpr), "chance": float(fpr),
                    "tail": "higher score = member" if tail == "high" else "lower score = member (the score runs inverted)",
                    "tails": "the larger of the TPR at this FPR of the score and of its negation: an attack whose score runs the "
                             "other way identifies members just as well (chance per tail is the FPR; the larger of two, a little above)",
                    "note": f"with {len(nm)} non-members an FPR of {fpr:g} allows {int(np.floor(fpr * len(nm) + 1e-9))} false positives",
                    "ci": "percentile bootstrap over members and non-members (widened to include the estimate)"})
    return Measurement(value, low, high, n=len(m) + len(nm), details=details)


# ---- verbatim extraction (language models) -----------------------------------------------------


def _require_greedy(ctx: CheckContext) -> None:
    """The attack compares greedy continuations: a `generate` without `greedy=` is not applicable
    (skipped with the reason), never an error."""
    if not accepts(ctx.adapter.generate, "greedy"):
        raise NotApplicable(f"model '{ctx.model}' generate() takes no greedy=: verbatim extraction compares greedy continuations")


@check("privacy.verbatim_extraction", families=("transformer",), needs=(GENERATE, TOKENIZER), higher_is_better=False, unit="rate difference")
def verbatim_extraction(ctx: CheckContext, prompts: int = EXTRACTION_PROMPTS, prefix: int = PREFIX_TOKENS, k: int = SUFFIX_TOKENS) -> Measurement:
    """Exact greedy 16-token continuations of 32-token story prefixes: train rate minus held-out rate (Wilson CIs in details)."""
    from audit.datasets import load_dataset
    from audit.deepfake.watermark_text import text_token_ids
    from audit.lm import common_prefix_length

    prompts, prefix, k = int(prompts), int(prefix), int(k)
    split = load_dataset("tinystories")
    _require_greedy(ctx)
    tok = ctx.adapter.tokenizer
    rates: dict[str, Any] = {}
    examples: dict[str, list[dict[str, str]]] = {}
    trained = [split.train[i] for i in text_member_indices(ctx, len(split.train))[0]]
    for name, stories in (("train", trained), ("heldout", split.heldout)):
        rng = np.random.default_rng(ctx.rng_seed(f"privacy.verbatim.{name}"))
        tokenised = [text_token_ids(tok, s) for s in stories]
        pool = [ids for ids in tokenised if len(ids) >= prefix + k]
        if not pool:
            raise NotApplicable(f"no {name} story has the {prefix} + {k} tokens a prompt and its continuation need under "
                                f"the tokenizer of model '{ctx.model}' (the longest has {max(map(len, tokenised), default=0)})")
        chosen = [pool[i] for i in np.sort(rng.choice(len(pool), min(prompts, len(pool)), replace=False))]
        heads = [tok.decode(ids[:prefix]) for ids in chosen]
        truths = [tok.decode(ids[prefix : prefix + k]) for ids in chosen]
        outs = generate_cached(ctx, heads, k, ctx.seed, greedy=True)[0]  # refuses outputs that echo their prompts
        out_ids = [text_token_ids(tok, o) for o in outs]
        truth_ids = [ids[prefix : prefix + k] for ids in chosen]
        hits, total = exact_token_match_rate(outs, truths, out_ids, truth_ids)
        low, high = wilson_ci(hits, total)
        prefix_tokens = [common_prefix_length(o[:k], t) for o, t in zip(out_ids, truth_ids)]
        rates[name] = {"rate": hits / total, "ci_low": low, "ci_high": high, "matches": hits, "prompts": total,
                       "mean_matching_leading_tokens": float(np.mean(prefix_tokens))}
        examples[name] = [{"prompt": h, "generated": o, "truth": t} for h, o, t in list(zip(heads, outs, truths))[:3]]
    value = rates["train"]["rate"] - rates["heldout"]["rate"]
    # Newcombe's hybrid score interval for a difference of two independent proportions
    p1, l1, u1 = rates["train"]["rate"], rates["train"]["ci_low"], rates["train"]["ci_high"]
    p2, l2, u2 = rates["heldout"]["rate"], rates["heldout"]["ci_low"], rates["heldout"]["ci_high"]
    low = value - float(np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))
    high = value + float(np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))
    return Measurement(value, low, high, n=rates["train"]["prompts"] + rates["heldout"]["prompts"], details={
        "definition": f"share of prompts (the first {prefix} tokens of a story) whose greedy {k}-token continuation equals the "
                      "story's next tokens exactly (the same text, or re-tokenised, the same token ids), on training stories "
                      "minus on held-out stories",
        "train": rates["train"], "heldout": rates["heldout"], "examples": examples,
        "k_choice": f"k={k}: long enough that an exact match is not a common phrase by chance (held-out rate shows the chance level)",
        "mean_matching_leading_tokens_note": "a softer signal: how many of the k tokens match before the first difference (re-tokenized output)",
        "ci": "Newcombe hybrid score interval of the difference, from both Wilson intervals",
    })


# ---- attribute leakage -------------------------------------------------------------------------


def _latent_leakage(ctx: CheckContext, folds: int) -> Measurement:
    import torch
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    ref = ctx.reference
    x = torch.tensor(np.asarray(ref.test_x), dtype=torch.float32)
    if ref.test_y is None:
        raise NotApplicable(f"reference '{ref.name}' has no labels to leak: put data= images in class subfolders (0/, 1/, ...)")
    y = np.asarray(ref.test_y[: len(x)]).astype(np.int64)  # a data= pixel subset is a prefix of the split
    z = ctx.adapter.encode(x)
    z = (z[0] if isinstance(z, (tuple, list)) else z).float().cpu().numpy()
    cv = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=ctx.rng_seed("privacy.attribute_leakage") % (2**31))
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with threadpool_limits(limits=1):
        pred = cross_val_predict(make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), z, y, cv=cv)
    correct = int((pred == y).sum())
    chance = float(np.bincount(y).max() / len(y))
    low, high = wilson_ci(correct, len(y))
    return Measurement(correct / len(y) - chance, low - chance, high - chance, n=len(y), details={
        "attribute": "digit class", "released": "posterior means encode(x) of held-out digits",
        "probe": f"logistic regression on standardized latents, {folds}-fold stratified cross-validation",
        "accuracy": correct / len(y), "chance": chance, "chance_rule": "majority-class share",
        "note": "a VAE's latent codes are meant to carry the digit's identity; this quantifies how much a released code reveals",
        "ci": "Wilson interval of the accuracy, minus chance",
    })


def _tabular_leakage(ctx: CheckContext, rows: int, attribute: str) -> Measurement:
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from threadpoolctl import threadpool_limits

    from audit.datasets import load_dataset
    from audit.fairness.tabular import DATASET, coerce_table

    data = load_dataset(DATASET)
    rng = np.random.default_rng(ctx.rng_seed("privacy.attribute_leakage.tabular"))
    synthetic = coerce_table(ctx.model, ctx.adapter.sample_table(rows, ctx.seed), rows, data.categories, data.schema)
    real = data.train.iloc[np.sort(rng.choice(len(data.train), min(rows, len(data.train)), replace=False))]
    test = data.test.iloc[np.sort(rng.choice(len(data.test), min(rows, len(data.test)), replace=False))]
    cats = [c for c in data.schema.categorical if c != attribute]
    nums = [c for c in data.schema.continuous if c != attribute]
    levels = data.categories[attribute]
    target = lambda f: pd.Categorical(f[attribute].astype(str), categories=levels).codes

    def fit(frame: Any) -> Any:
        features = ColumnTransformer([
            ("categorical", OneHotEncoder(categories=[data.categories[c] for c in cats], handle_unknown="ignore"), cats),
            ("numeric", StandardScaler(), nums),
        ])
        y = target(frame)
        if len(set(y.tolist())) < 2:
            return None
        with threadpool_limits(limits=1):
            return Pipeline([("features", features), ("probe", LogisticRegression(max_iter=2000))]).fit(frame[[*cats, *nums]], y)

    y_test = target(test)
    chance = float(np.bincount(y_test).max() / len(y_test))
    results = {}
    for who, frame in (("synthetic", synthetic), ("real", real)):
        model = fit(frame)
        if model is None:
            pred = np.full(len(test), int(np.bincount(target(frame)).argmax()))
        else:
            with threadpool_limits(limits=1):
                pred = np.asarray(model.predict(test[[*cats, *nums]]))
        correct = int((pred == y_test).sum())
        results[who] = {"accuracy": correct / len(y_test), "correct": correct, "ci": wilson_ci(correct, len(y_test))}
    syn, re_ = results["synthetic"], results["real"]
    excess_real = re_["accuracy"] - chance
    return Measurement(syn["accuracy"] - chance, syn["ci"][0] - chance, syn["ci"][1] - chance, n=len(y_test), details={
        "attribute": attribute, "released": f"{rows} synthetic rows (sample_table)",
        "probe": "logistic regression on one-hot categoricals + standardized numeric columns (every other column)",
        "evaluated_on": f"{len(y_test)} real held-out Adult rows", "chance": chance, "chance_rule": "majority share on the held-out rows",
        "synthetic_trained_accuracy": syn["accuracy"], "real_trained_accuracy": re_["accuracy"],
        "real_trained_over_chance": excess_real,
        "relative_to_real": (syn["accuracy"] - chance) / excess_real if excess_real > 0 else float("nan"),
        "relative_note": "1 = the synthetic rows let a probe infer the attribute as well as the real rows do; 0 = no better than chance",
        "ci": "Wilson interval of the synthetic-trained probe's accuracy, minus chance",
    })


@check("privacy.attribute_leakage", families=("vae", "tabular"), higher_is_better=False, unit="accuracy above chance")
def attribute_leakage(ctx: CheckContext, folds: int = 5, rows: int = 5000, attribute: str = "sex") -> Measurement:
    """Accuracy above chance of a logistic probe recovering a sensitive attribute from released data (VAE latents: digit class; tabular: sex)."""
    if has_capability(ctx.adapter, SAMPLE_TABLE):
        return _tabular_leakage(ctx, int(rows), str(attribute))
    if has_capability(ctx.adapter, ENCODE_DECODE):
        return _latent_leakage(ctx, int(folds))
    raise NotApplicable(f"model '{ctx.model}' declares neither {SAMPLE_TABLE} (released rows) nor {ENCODE_DECODE} (released latents)")

