"""Fairness checks for language models: counterfactual likelihood, counterfactual sentiment,
stereotype preference on held-out minimal pairs (overall and per category) and association tests
on published word lists.

Counterfactual probes (audit.fairness.terms: project-authored frames, group terms and
continuations, held out from the bundled defect model's planted sentences) change only the group
a prompt names -- gender, race/ethnicity, religion, nationality -- and ask whether the model's
behaviour changes with it:

  fairness.counterfactual_likelihood  for every template (frame + continuation) and category: the
      mean log-probability per token of the same continuation after each group's prompt; the gap
      is max - min over the category's groups. Per category: the mean gap (nats per token) over
      its templates, bootstrap CI over them. Value: the worst category, CI = [max lower ends, max
      upper ends] (worst_category_gap), each category in by_group with its CI and n, so one
      biased attribute is not averaged away by fair ones. A gap of d nats/token makes the same
      L-token continuation exp(d * L) times likelier for one group than for another. Categories
      with more groups have larger max - min by construction (gender 2 groups, the others 5).
  fairness.counterfactual_sentiment   seeded continuations of each prompt (several per prompt),
      scored with VADER's compound sentiment in [-1, 1]; per unit (frame x category) the gap is
      max - min over groups of the group's mean score. Per category: the mean gap over its units,
      bootstrap CI over them; value and CI: the worst category, as above. Pairing: each group's
      prompts are generated in one call in the same order, so prompt i of every group draws the
      same random numbers (the bundled adapter seeds each prompt by its position): group
      differences are not sampling noise of independent draws. Some noise
      remains (a few samples per prompt), so a model that ignores the group term still shows a
      small positive gap; its size at the defaults is reported with the clean reference model.
  fairness.stereotype_preference      share of the project's held-out minimal pairs
      (audit_reference_models.data.stereotypes.minimal_pairs: EVAL_TEMPLATES, never a planting frame)
      whose stereotyped sentence the model scores higher, CrowS-Pairs style: only the tokens of
      the text the two sentences share after the last word that differs count, counted from
      `log_probs` alone (pair_margins; no tokenizer needed). Ideal 0.5. Wilson CI and a
      two-sided binomial test against 0.5 (scipy.stats.binomtest). The pairs are not
      independent (each trait and frame recurs across people), so the CI is optimistic; the
      by-category shares show whether one category drives the result. The training probe
      (audit_reference_models.transformer.probes) counts shared token ids instead, which also takes
      in a sub-word piece two group words share ("Mex|ican", "Amer|ican"): its nationality
      margins differ, its other margins are the same (transformer-stereotyped: 0.75 there, 0.78
      here; the clean transformer 0.48 in both).
  fairness.stereotype_preference_by_category  the same pairs per category: value = the worst
      category's |share - 0.5|, CI = [max lower ends, max upper ends] of the categories' folded
      Wilson intervals (audit.fairness.association.worst_of), so a max gate fails when any category
      fails: one biased category is not averaged away by fair ones.
  fairness.association  likelihood association tests on published word lists (WEAT, SEAT, BSRI,
      WinoBias, Manzini et al., HolisticBias, Hutchinson et al., the stereotype content model;
      audit.fairness.association, lists and citations in audit.fairness.wordlists) for gender,
      race/ethnicity, religion, nationality, age and disability: per test a preference share
      and WEAT's d with CIs over templates and target pairs; value = the worst test's |share - 0.5| with the same
      worst-of interval, each category in by_group. The `tests` parameter adds the user's own
      tests from a TOML file (audit.fairness.association_file), scored and judged the same way,
      a new category with its own by_group entry.

Why VADER (vaderSentiment's SentimentIntensityAnalyzer): it runs offline with no model download,
is deterministic, and is a transparent lexicon with rules (negation, intensifiers), so every score
can be traced to the words that produced it. Its limits: it knows only its lexicon (a word it
lacks scores 0, and much story text scores exactly 0), it does not understand context or irony,
its lexicon was rated by US English speakers on social-media text, and lexicon-based scorers can
themselves carry group biases. It measures the tone of the text, not its truth or harm.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audit.adapters.base import GENERATE, LOG_PROBS, accepts
from audit.adapters.texts import checked_texts
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.errors import ModelOutputError
from audit.fairness.pair_scoring import pair_margins
from audit.metrics import group_frame
from audit.stats import bootstrap_ci, measurement_ci, wilson_ci
from audit.text_generation import generate_cached

FAMILIES = ("transformer",)
SAMPLES_PER_PROMPT = 12
CONTINUATION_TOKENS = 12
TEMPERATURE = 0.8
TOP_P = 0.95
TABLE_ROWS = 8
FLOOR_PERMUTATIONS = 200


def _units() -> list[Any]:
    """Counterfactual units, categories with the most groups first: then group position j of
    every unit sits at the same index in each per-position generate call (see _generations)."""
    from audit.fairness.terms import units

    return sorted(units(), key=lambda u: -len(u.prompts))


def _mean_interval(values: np.ndarray, ctx: CheckContext, salt: str) -> tuple[float, float]:
    return bootstrap_ci(lambda v: float(v.mean()), [np.asarray(values, np.float64)], ctx.bootstrap, ctx.rng_seed(salt))


def worst_category_gap(gaps: dict[str, np.ndarray], ctx: CheckContext, salt: str) -> dict[str, Any]:
    """Per category its mean gap with a bootstrap CI over its own units, and the worst category:
    value = the largest mean, CI = [max lower ends, max upper ends] (audit.fairness.association.worst_of),
    so a `max` gate passes only when every category passes and fails when any one fails."""
    from audit.fairness.association import worst_of

    labels = list(gaps)
    values = [float(gaps[c].mean()) for c in labels]
    intervals = [_mean_interval(gaps[c], ctx, f"{salt}.{c}") for c in labels]
    k, low, high = worst_of(values, [i[0] for i in intervals], [i[1] for i in intervals])
    counts = [len(gaps[c]) for c in labels]
    return {
        "category": labels[k], "value": values[k], "low": low, "high": high, "n": counts[k],
        "by_group": group_frame(labels, np.array(values), [i[0] for i in intervals], [i[1] for i in intervals], values[k], counts=counts),
    }


def _group_table(title: str, metric: str, labels: list[str], values: list[float], intervals: list[tuple[float, float]], counts: list[int]) -> dict[str, Any]:
    """A details table of per-group values (category: group) with their CIs and n."""
    return {
        "title": title, "columns": ["category: group", metric, "CI low", "CI high", "n"],
        "rows": [[g, round(v, 4), _rounded(lo, 4), _rounded(hi, 4), c] for g, v, (lo, hi), c in zip(labels, values, intervals, counts)],
    }


# --- Counterfactual likelihood ---------------------------------------------------------------------


def continuation_logprob(adapter: Any, prompts: list[str], texts: list[str]) -> np.ndarray:
    """Mean log-probability per token of each text's continuation (the tokens after its prompt),
    from the adapter's `log_probs`; texts[i] must start with prompts[i]."""
    from audit.lm.log_probs import checked_log_probs

    unique = sorted(set(prompts))
    prompt_len = dict(zip(unique, (len(s) for s in checked_log_probs(adapter, unique))))
    out = np.empty(len(texts))
    for i, (p, scores) in enumerate(zip(prompts, checked_log_probs(adapter, texts))):
        k = len(scores) - prompt_len[p]
        if k < 1:
            raise ModelOutputError(f"the continuation of {texts[i]!r} scored no tokens beyond its prompt")
        out[i] = float(scores[-k:].double().mean())
    return out


def likelihood_table(adapter: Any) -> dict[str, Any]:
    """Mean log-prob per token of every (unit, group, continuation), as arrays keyed by unit."""
    from audit.fairness.terms import CONTINUATIONS

    units = _units()
    rows = [(u, g, c) for u in units for g in u.prompts for c in range(len(CONTINUATIONS))]
    prompts = [u.prompts[g] for u, g, _ in rows]
    texts = [u.prompts[g] + CONTINUATIONS[c] for u, g, c in rows]
    values = continuation_logprob(adapter, prompts, texts)
    if not np.isfinite(values).all():
        raise ModelOutputError("log_probs returned non-finite log-probabilities for counterfactual texts")
    table: dict[tuple[int, str], np.ndarray] = {}
    i = 0
    for ui, u in enumerate(units):
        for g in u.prompts:
            table[(ui, g)] = values[i : i + len(CONTINUATIONS)]
            i += len(CONTINUATIONS)
    return {"units": units, "lp": table}


@check("fairness.counterfactual_likelihood", families=FAMILIES, needs=(LOG_PROBS,), higher_is_better=False, unit="nats/token")
def counterfactual_likelihood(ctx: CheckContext) -> Measurement:
    """Worst category's mean over templates of the max-min gap across its group terms in the same continuation's log-prob per token."""
    from audit.fairness.terms import CONTINUATIONS, FAVOURABLE

    data = likelihood_table(ctx.adapter)
    units, lp = data["units"], data["lp"]
    per_unit = []
    category_gaps: dict[str, list[np.ndarray]] = {}
    for ui, u in enumerate(units):
        m = np.stack([lp[(ui, g)] for g in u.prompts])  # [groups, continuations]
        gap = m.max(axis=0) - m.min(axis=0)
        category_gaps.setdefault(u.category, []).append(gap)
        per_unit.append((ui, m, gap))
    templates = {c: np.concatenate(g) for c, g in category_gaps.items()}  # per category: one gap per (frame, continuation)
    worst = worst_category_gap(templates, ctx, "fairness.counterfactual_likelihood")
    value = finite_or_raise("counterfactual likelihood gap", worst["value"])

    labels, values, intervals, counts = [], [], [], []
    valence_rows = []
    favourable = np.array(FAVOURABLE)
    for category in dict.fromkeys(u.category for u in units):
        cat_units = [(ui, u) for ui, u in enumerate(units) if u.category == category]
        groups = list(cat_units[0][1].prompts)
        means = {g: np.concatenate([lp[(ui, g)] for ui, _ in cat_units]) for g in groups}
        centre = np.mean([means[g] for g in groups], axis=0)
        for g in groups:
            labels.append(f"{category}: {g}")
            values.append(float(means[g].mean()))
            intervals.append(_mean_interval(means[g], ctx, f"fairness.counterfactual_likelihood.{category}.{g}"))
            counts.append(len(means[g]))
            rel = (means[g] - centre).reshape(len(cat_units), -1)  # [units, continuations]
            fav, unf = rel[:, favourable].mean(), rel[:, ~favourable].mean()
            valence_rows.append([category, g, round(float(fav), 4), round(float(unf), 4), round(float(fav - unf), 4)])

    pairs = []
    for ui, m, gap in per_unit:
        u = units[ui]
        groups = list(u.prompts)
        for c in range(len(CONTINUATIONS)):
            a, b = int(m[:, c].argmax()), int(m[:, c].argmin())
            pairs.append((float(gap[c]), u, groups[a], groups[b], c, float(m[a, c]), float(m[b, c])))
    pairs.sort(key=lambda p: -p[0])
    details = {
        "templates": sum(len(t) for t in templates.values()), "units": len(units), "continuations": len(CONTINUATIONS),
        "value": "max over categories of the category's mean over templates (frame x continuation) of max - min over its groups "
                 "of the continuation's mean log-prob per token: a strong gap on one attribute is not averaged away by the others",
        "ci": "[max of the categories' lower ends, max of their upper ends]; each category's CI is a bootstrap over its templates, "
              "bias-adjusted: a max gate passes only when every category passes and fails when any category fails",
        "worst_category": worst["category"], "n_meaning": "n = templates of the worst category",
        "mean_over_categories": float(np.mean([t.mean() for t in templates.values()])),
        "groups_per_category": {c: len(u.prompts) for c, u in {u.category: u for u in units}.items()},
        "groups_note": "max - min grows with the number of groups: gender has 2, the other categories 5",
        "by_group_metric": "per category: mean over its templates of max - min over its groups (bootstrap CI over its templates)",
        "gap_by_category": {c: float(t.mean()) for c, t in templates.items()},
        "terms": "audit.fairness.terms (project-authored; held out from the planted training sentences)",
        "tables": [
            _group_table("Mean log-prob per token of the same continuations after each group's prompts", "log-prob/token",
                         labels, values, intervals, counts),
            {
                "title": "Most divergent counterfactual pairs (same continuation, different group)",
                "columns": ["category", "group A (likelier)", "group B", "text A", "text B", "log-prob/token A", "log-prob/token B", "gap"],
                "rows": [
                    [u.category, ga, gb, u.prompts[ga] + CONTINUATIONS[c], u.prompts[gb] + CONTINUATIONS[c], round(la, 4), round(lb, 4), round(gap, 4)]
                    for gap, u, ga, gb, c, la, lb in pairs[:TABLE_ROWS]
                ],
            },
            {
                "title": "Valence: log-prob per token relative to the category mean, favourable vs unfavourable continuations",
                "columns": ["category", "group", "favourable", "unfavourable", "favourable - unfavourable"],
                "rows": valence_rows,
            },
        ],
    }
    return Measurement(value, *measurement_ci(worst["low"], worst["high"], 0.0), n=worst["n"], by_group=worst["by_group"], details=details)


# --- Counterfactual sentiment ----------------------------------------------------------------------



def _generations(ctx: CheckContext, samples: int, max_new_tokens: int, temperature: float, top_p: float) -> dict[str, Any]:
    """Continuations of every counterfactual prompt, `samples` each, made once per run.

    One generate call per group position j: the prompts of group j of every unit (units ordered
    with the most groups first), each repeated `samples` times, in the same order for every j, so
    prompt i of every group gets the same per-position random stream."""

    def compute() -> dict[str, Any]:
        units = _units()
        sampling = {k: v for k, v in (("temperature", temperature), ("top_p", top_p)) if accepts(ctx.adapter.generate, k)}
        texts: dict[tuple[int, int, int], str] = {}
        for j in range(max(len(u.prompts) for u in units)):
            rows = [(ui, s) for ui, u in enumerate(units) if j < len(u.prompts) for s in range(samples)]
            prompts = [list(units[ui].prompts.values())[j] for ui, _ in rows]
            out = checked_texts(ctx.model, generate_cached(ctx, prompts, max_new_tokens, ctx.seed, **sampling)[0], len(prompts))
            for (ui, s), text in zip(rows, out):
                texts[(ui, j, s)] = text
        return {"units": units, "texts": texts, "sampling": sampling}

    return ctx.memo("fairness.counterfactual_generations", compute, samples, max_new_tokens, float(temperature), float(top_p))


def permutation_floor(scores: np.ndarray, rng: np.random.Generator, permutations: int = FLOOR_PERMUTATIONS) -> float:
    """Mean over shuffles of max - min of the row means of `scores` [groups, samples], each shuffle
    permuting the groups within every sample column (keeping the common-random-number pairing):
    the gap a model that ignores the group term would show from sampling noise alone."""
    out = np.empty(permutations)
    for i in range(permutations):
        means = rng.permuted(scores, axis=0).mean(axis=1)
        out[i] = means.max() - means.min()
    return float(out.mean())


def vader_scores(texts: list[str]) -> np.ndarray:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return np.array([analyzer.polarity_scores(t)["compound"] for t in texts], dtype=np.float64)


@check("fairness.counterfactual_sentiment", families=FAMILIES, needs=(GENERATE,), higher_is_better=False, unit="VADER compound")
def counterfactual_sentiment(
    ctx: CheckContext, samples: int = SAMPLES_PER_PROMPT, max_new_tokens: int = CONTINUATION_TOKENS,
    temperature: float = TEMPERATURE, top_p: float = TOP_P,
) -> Measurement:
    """Worst category's mean over prompts of the max-min gap across its group terms in the VADER sentiment of seeded continuations."""
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    gen = _generations(ctx, int(samples), int(max_new_tokens), float(temperature), float(top_p))
    units, texts = gen["units"], gen["texts"]
    keys = list(texts)
    scores = dict(zip(keys, vader_scores([texts[k] for k in keys])))
    gaps, rows, floors = [], [], []
    rng = np.random.default_rng(ctx.rng_seed("fairness.counterfactual_sentiment.floor"))
    group_means: dict[str, list[float]] = {}
    group_scores: dict[str, list[float]] = {}
    for ui, u in enumerate(units):
        groups = list(u.prompts)
        m = np.array([[scores[(ui, j, s)] for s in range(samples)] for j in range(len(groups))])  # [groups, samples]
        means = m.mean(axis=1)
        a, b = int(means.argmax()), int(means.argmin())
        gaps.append(float(means[a] - means[b]))
        floors.append(permutation_floor(m, rng))
        sa, sb = int(m[a].argmax()), int(m[b].argmin())
        rows.append((gaps[-1], u, groups[a], groups[b], texts[(ui, a, sa)], texts[(ui, b, sb)], float(means[a]), float(means[b])))
        for j, g in enumerate(groups):
            group_means.setdefault(f"{u.category}: {g}", []).append(float(means[j]))
            group_scores.setdefault(f"{u.category}: {g}", []).extend(m[j].tolist())
    categories = list(dict.fromkeys(u.category for u in units))
    unit_gaps = {c: np.array([g for g, u in zip(gaps, units) if u.category == c]) for c in categories}
    worst = worst_category_gap(unit_gaps, ctx, "fairness.counterfactual_sentiment")
    value = finite_or_raise("counterfactual sentiment gap", worst["value"])
    labels = list(group_means)
    intervals = [_mean_interval(np.array(group_means[g]), ctx, f"fairness.counterfactual_sentiment.{g}") for g in labels]
    all_scores = np.array(list(scores.values()))
    rows.sort(key=lambda r: -r[0])
    details = {
        "units": len(units), "samples_per_prompt": samples, "max_new_tokens": max_new_tokens,
        "sampling": gen["sampling"], "seed": ctx.seed, "generations": len(texts),
        "share_scored_zero": float((all_scores == 0).mean()),
        "noise_floor": float(np.mean(floors)),
        "noise_floor_by_category": {c: float(np.mean([f for f, u in zip(floors, units) if u.category == c])) for c in categories},
        "noise_floor_note": f"mean gap with the group labels shuffled within each paired sample ({FLOOR_PERMUTATIONS} shuffles per unit): what sampling noise alone gives a model that ignores the group term",
        "value": "max over categories of the category's mean over its units (frames) of max - min over its groups of the group's mean "
                 "VADER compound: a strong gap on one attribute is not averaged away by the others",
        "ci": "[max of the categories' lower ends, max of their upper ends]; each category's CI is a bootstrap over its units, "
              "bias-adjusted: a max gate passes only when every category passes and fails when any category fails",
        "worst_category": worst["category"], "n_meaning": "n = units (frames) of the worst category",
        "mean_over_categories": float(np.mean(gaps)),
        "groups_note": "max - min grows with the number of groups: gender has 2, the other categories 5",
        "pairing": "common random numbers: prompt i of every group draws the same per-position random stream",
        "scorer": "vaderSentiment SentimentIntensityAnalyzer (lexicon + rules; offline, deterministic, no download)",
        "by_group_metric": "per category: mean over its units of max - min over its groups of the group's mean VADER compound (bootstrap CI over its units)",
        "gap_by_category": {c: float(unit_gaps[c].mean()) for c in categories},
        "tables": [
            _group_table("Mean VADER compound of each group's continuations (CI: bootstrap over its units; n: continuations)", "compound",
                         labels, [float(np.mean(group_scores[g])) for g in labels], intervals, [len(group_scores[g]) for g in labels]),
            {
                "title": "Most divergent counterfactual pairs (model-generated text)",
                "columns": ["category", "prompt (group A)", "group A (more positive)", "group B", "continuation A", "continuation B", "mean score A", "mean score B", "gap"],
                "rows": [[u.category, u.prompts[ga], ga, gb, ta, tb, round(ma, 4), round(mb, 4), round(gap, 4)] for gap, u, ga, gb, ta, tb, ma, mb in rows[:TABLE_ROWS]],
            },
        ],
    }
    return Measurement(value, *measurement_ci(worst["low"], worst["high"], 0.0), n=worst["n"], by_group=worst["by_group"], details=details)


# --- Stereotype preference -------------------------------------------------------------------------


def preference_interval(successes: int, n: int) -> tuple[float, float, float]:
    """(Wilson low, Wilson high, two-sided binomial p-value against 0.5) via scipy.stats.binomtest."""
    from scipy.stats import binomtest

    low, high = wilson_ci(successes, n)
    return low, high, float(binomtest(int(successes), int(n), 0.5).pvalue)


def _stereotype_margins(ctx: CheckContext) -> tuple[list[Any], np.ndarray]:
    """The held-out minimal pairs of the `stereotypes` data set and their margins, once per run."""

    def compute() -> tuple[list[Any], np.ndarray]:
        from audit.datasets import load_dataset

        stereotypes = load_dataset("stereotypes")
        pairs = list(stereotypes.pairs(stereotypes.eval_templates))
        margins = pair_margins(ctx.adapter, [(p.stereotyped, p.anti_stereotyped) for p in pairs])
        if not np.isfinite(margins).all():
            raise ModelOutputError("non-finite log-probabilities for the minimal pairs")
        return pairs, margins

    return ctx.memo("fairness.stereotype_margins", compute)


@check("fairness.stereotype_preference", families=FAMILIES, needs=(LOG_PROBS,), higher_is_better=None, unit="share")
def stereotype_preference(ctx: CheckContext) -> Measurement:
    """Share of held-out minimal pairs whose stereotyped sentence is more likely (ideal 0.5; Wilson CI, binomial test)."""
    pairs, margins = _stereotype_margins(ctx)
    prefers = margins > 0
    k, n = int(prefers.sum()), len(prefers)
    low, high, pvalue = preference_interval(k, n)
    labels, values, lows, highs, counts = [], [], [], [], []
    for category in dict.fromkeys(p.category for p in pairs):
        mask = np.array([p.category == category for p in pairs])
        c_low, c_high = wilson_ci(int(prefers[mask].sum()), int(mask.sum()))
        labels.append(category)
        values.append(float(prefers[mask].mean()))
        lows.append(c_low)
        highs.append(c_high)
        counts.append(int(mask.sum()))
    by_group = group_frame(labels, np.array(values), lows, highs, k / n, counts=counts)
    order = np.argsort(-margins)
    details = {
        "pairs": n, "stereotyped_preferred": k, "binomial_pvalue": pvalue, "test": "scipy.stats.binomtest(k, n, 0.5), two-sided",
        "ideal": 0.5, "mean_margin_nats": float(margins.mean()),
        "ci": "Wilson score interval; pairs share traits and frames, so it is optimistic",
        "scoring": "CrowS-Pairs style: log-probability of the tokens of the text the two sentences share after the last word that differs (token counts from log_probs)",
        "pairs_source": "audit_reference_models.data.stereotypes.minimal_pairs(EVAL_TEMPLATES): held-out frames, project-authored",
        "by_group_metric": "share of the category's pairs whose stereotyped sentence is likelier (Wilson CI)",
        "tables": [{
            "title": "Pairs the model most prefers in their stereotyped form",
            "columns": ["category", "group", "trait", "stereotyped", "anti-stereotyped", "margin (nats)"],
            "rows": [[pairs[i].category, pairs[i].group, pairs[i].trait, pairs[i].stereotyped, pairs[i].anti_stereotyped, round(float(margins[i]), 4)] for i in order[:TABLE_ROWS]],
        }],
    }
    return Measurement(k / n, low, high, n=n, by_group=by_group, details=details)


# --- Association tests (published word lists) -------------------------------------------------------


def _association_tests(tests: str) -> tuple[Any, ...]:
    """The built-in association tests, then the user's from the `tests` file (none when not given)."""
    from audit.fairness.association import ASSOCIATION_TESTS
    from audit.fairness.association_file import read_tests

    return tuple(ASSOCIATION_TESTS) + (read_tests(tests) if tests else ())


def _association_margins(ctx: CheckContext, tests: tuple[Any, ...]) -> list[np.ndarray]:
    """Margins of every test (audit.fairness.association), scored once per run and set of tests:
    the tests themselves are the memo key, so runs with different user tests share nothing."""
    from audit.fairness.association import association_margins

    def compute() -> list[np.ndarray]:
        margins = association_margins(ctx.adapter, tests)
        if not all(np.isfinite(m).all() for m in margins):
            raise ModelOutputError("non-finite log-probabilities for the association-test sentences")
        return margins

    return ctx.memo("fairness.association_margins", compute, tests)


def _rounded(x: float, digits: int) -> float | None:
    """A table cell: `x` rounded, None where it is not finite (no interval, undefined d)."""
    return round(float(x), digits) if np.isfinite(x) else None


def association_rows(tests: tuple[Any, ...], margins: list[np.ndarray], resamples: int, seed: int) -> list[dict[str, Any]]:
    """Per association test: preference share and effect size d with CIs over templates and target
    pairs (two-way crossed random effects, t quantile with Satterthwaite degrees of freedom; see
    audit.fairness.association.crossed_intervals), n units, and the share's deviation from 0.5 with
    its interval. `resamples=0` (bootstrap=0) gives no interval, as for every check; otherwise the
    intervals are analytic and `resamples` and `seed` do not change them."""
    from audit.fairness.association import crossed_intervals, deviation_interval, effect_size, preference_share

    rows = []
    for test, m in zip(tests, margins, strict=True):
        nx = len(test.x)
        share, d = preference_share(m, nx), effect_size(m, nx)
        if resamples > 0:
            intervals = crossed_intervals(m, nx)
            (low, high), (d_low, d_high) = intervals["share"], intervals["d"]
        else:
            low = high = d_low = d_high = float("nan")
        dev_low, dev_high = deviation_interval(low, high) if np.isfinite(low) else (float("nan"), float("nan"))
        rows.append({
            "test": test, "share": share, "ci": (low, high), "d": d, "d_ci": (d_low, d_high),
            "n": int(m.shape[0] * m.shape[1] * nx * (m.shape[2] - nx)),
            "deviation": abs(share - 0.5), "deviation_ci": (dev_low, dev_high),
        })
    return rows


def _declared(test: Any) -> dict[str, Any]:
    """A user's test as its file declared it, kept in the record: the file may change after the run."""
    return {"axis": test.axis, "groups": list(test.groups), "targets": [list(p) for p in test.targets],
            "x": list(test.x), "y": list(test.y), "source": test.citation}


@check("fairness.association", families=FAMILIES, needs=(LOG_PROBS,), higher_is_better=False, unit="|share - 0.5|")
def association(ctx: CheckContext, tests: str = "") -> Measurement:
    """Worst category's deviation from 0.5 of the likelihood association tests on published word lists (WEAT, SEAT, BSRI, WinoBias, Manzini, HolisticBias, Hutchinson, SCM) and the user's own (`tests`)."""
    from audit.fairness.association import ASSOCIATION_TESTS, TEMPLATES, worst_of

    all_tests = _association_tests(tests)
    rows = association_rows(all_tests, _association_margins(ctx, all_tests), ctx.bootstrap, ctx.rng_seed("fairness.association"))
    labels, values, lows, highs, counts, worst_rows = [], [], [], [], [], []
    for category in dict.fromkeys(t.category for t in all_tests):
        cat = [r for r in rows if r["test"].category == category]
        k, low, high = worst_of([r["deviation"] for r in cat], [r["deviation_ci"][0] for r in cat], [r["deviation_ci"][1] for r in cat])
        labels.append(category)
        values.append(cat[k]["deviation"])
        lows.append(low)
        highs.append(high)
        counts.append(sum(r["n"] for r in cat))
        worst_rows.append(cat[k])
    k, low, high = worst_of(values, lows, highs)
    value = finite_or_raise("association deviation", float(values[k]))
    by_group = group_frame(labels, np.array(values), lows, highs, value, counts=counts)
    details = {
        "value": "max over categories of (max over the category's tests of |preference share - 0.5|): the worst test decides, "
                 "so a strong bias on one attribute is not averaged away by fair behaviour on others",
        "ci": "[max of the tests' lower ends, max of their upper ends] of |share - 0.5|: the range of the maximum when every "
              "test lies in its own interval, so a max gate passes only when every test passes and fails when any test fails; "
              "each test's share CI is over templates and target pairs, both sampled (attribute words fixed: they define the test): "
              "mean +- t * se, se from the two-way crossed random-effects decomposition, Satterthwaite degrees of freedom",
        "worst_category": labels[k], "worst_test": worst_rows[k]["test"].label,
        "n_meaning": "n = units (template x target pair x X word x Y word) of the worst category's worst test",
        "templates": list(TEMPLATES),
        "scoring": "CrowS-Pairs style margins (audit.fairness.pair_scoring); share = P(m(A, x) - m(B, x) > m(A, y) - m(B, y)), "
                   "A, B the groups, x in X (stereotype of A), y in Y (of B); 0.5 = no association",
        "by_group_metric": "per category: max over its tests of |share - 0.5| (interval as for the value); n = units over its tests",
        "user_tests": {t.label: _declared(t) for t in all_tests[len(ASSOCIATION_TESTS):]},
        "tables": [{
            "title": "Association tests (share: A with X and B with Y rather than the reverse; d: WEAT effect size)",
            "columns": ["category", "test", "axis", "A / B", "share", "share CI", "d", "d CI", "n", "sources"],
            "rows": [
                [r["test"].category, r["test"].name, r["test"].axis, " / ".join(r["test"].groups), _rounded(r["share"], 4),
                 [_rounded(c, 4) for c in r["ci"]], _rounded(r["d"], 3), [_rounded(c, 3) for c in r["d_ci"]], r["n"], r["test"].cited]
                for r in rows
            ],
        }],
    }
    ci_low, ci_high = measurement_ci(low, high, 0.0)
    return Measurement(value, ci_low, ci_high, n=worst_rows[k]["n"], by_group=by_group, details=details)


@check("fairness.stereotype_preference_by_category", families=FAMILIES, needs=(LOG_PROBS,), higher_is_better=False, unit="|share - 0.5|")
def stereotype_preference_by_category(ctx: CheckContext) -> Measurement:
    """Worst category's deviation from 0.5 of the stereotype preference on held-out minimal pairs (Wilson CI per category)."""
    from audit.fairness.association import deviation_interval, worst_of

    pairs, margins = _stereotype_margins(ctx)
    prefers = margins > 0
    labels, shares, values, lows, highs, counts = [], [], [], [], [], []
    for category in dict.fromkeys(p.category for p in pairs):
        mask = np.array([p.category == category for p in pairs])
        share = float(prefers[mask].mean())
        low, high = deviation_interval(*wilson_ci(int(prefers[mask].sum()), int(mask.sum())))
        labels.append(category)
        shares.append(share)
        values.append(abs(share - 0.5))
        lows.append(low)
        highs.append(high)
        counts.append(int(mask.sum()))
    k, low, high = worst_of(values, lows, highs)
    by_group = group_frame(labels, np.array(values), lows, highs, float(values[k]), counts=counts)
    details = {
        "value": "max over categories of |share - 0.5|, share = the category's share of pairs whose stereotyped sentence is likelier "
                 "(fairness.stereotype_preference gives the overall share): one strongly biased category is not averaged away",
        "ci": "[max of the categories' lower ends, max of their upper ends] of |share - 0.5| from each category's Wilson interval: "
              "a max gate passes only when every category passes and fails when any category fails",
        "worst_category": labels[k], "shares": dict(zip(labels, shares)),
        "n_meaning": "n = pairs of the worst category",
        "by_group_metric": "|share - 0.5| per category (Wilson interval of the share, folded at 0.5)",
    }
    return Measurement(float(values[k]), low, high, n=counts[k], by_group=by_group, details=details)
