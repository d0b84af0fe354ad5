"""Privacy statistics (pure numpy/scipy/sklearn): membership-inference ROC summaries, distance to
closest record (DCR) ratios and exact-continuation extraction rates.

- Membership inference: an attack gives each candidate record a score (higher = "was in the
  training set"). `mia_auc` is the area under the ROC curve of members against non-members,
  computed as the Mann-Whitney U statistic from ranks (ties count half), which equals
  `sklearn.metrics.roc_auc_score`; 0.5 = the attack cannot tell members from non-members.
  `tpr_at_fpr` is the largest true-positive rate reachable with a false-positive rate at most
  `fpr` (Carlini et al., 2022: "Membership inference attacks from first principles"), read off
  sklearn's ROC curve. An attack whose score runs the other way (an AUC far below 0.5: a loss
  returned where a log-likelihood is documented) separates members just as well, so
  `tpr_at_fpr_two_sided` reads both tails and says which one it took.
- DCR: for each generated record, the distance to its closest training record over the distance
  to its closest held-out record, with equally many training and held-out records so that the
  ratio is ~1 for a generator that does not copy (and << 1 for one that copies training records).
  Both distances are floored (a distance below the floor is a copy) and the ratio capped, so a
  record that copies a held-out record reads "no closer to training data", not 1e12.
- Verbatim extraction: a continuation counts as reproduced when its text equals the reference or
  its re-tokenised ids start with the reference's ids (a tokenizer whose decode respaces words).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

DEFAULT_FPR = 0.01


def _scores(members: np.ndarray, nonmembers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    members = np.asarray(members, np.float64).reshape(-1)
    nonmembers = np.asarray(nonmembers, np.float64).reshape(-1)
    if len(members) == 0 or len(nonmembers) == 0:
        raise ValueError(f"membership inference needs members and non-members, got {len(members)} and {len(nonmembers)}")
    if not (np.isfinite(members).all() and np.isfinite(nonmembers).all()):
        raise ValueError("membership-inference scores must be finite")
    return members, nonmembers


def mia_auc(members: np.ndarray, nonmembers: np.ndarray) -> float:
    """ROC AUC of `members` (positives) vs `nonmembers` from average ranks (ties count half)."""
    from scipy.stats import rankdata

    members, nonmembers = _scores(members, nonmembers)
    ranks = rankdata(np.concatenate([members, nonmembers]))
    n1, n0 = len(members), len(nonmembers)
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def roc(members: np.ndarray, nonmembers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rates, true positive rates) of thresholding the scores (sklearn's roc_curve)."""
    from sklearn.metrics import roc_curve

    members, nonmembers = _scores(members, nonmembers)
    y = np.concatenate([np.ones(len(members)), np.zeros(len(nonmembers))])
    fpr, tpr, _ = roc_curve(y, np.concatenate([members, nonmembers]), drop_intermediate=False)
    return fpr, tpr


def tpr_at_fpr(members: np.ndarray, nonmembers: np.ndarray, fpr: float = DEFAULT_FPR) -> float:
    """The largest TPR of a threshold whose FPR is at most `fpr` (0 when no threshold qualifies)."""
    f, t = roc(members, nonmembers)
    ok = f <= fpr + 1e-12
    return float(t[ok].max()) if ok.any() else 0.0


def tpr_at_fpr_two_sided(members: np.ndarray, nonmembers: np.ndarray, fpr: float = DEFAULT_FPR) -> tuple[float, str]:
    """The larger TPR at `fpr` of the score and of its negation, and which tail gave it
    ("high": higher score = member, "low": lower score = member; "high" on a tie)."""
    members, nonmembers = _scores(members, nonmembers)
    high, low = tpr_at_fpr(members, nonmembers, fpr), tpr_at_fpr(-members, -nonmembers, fpr)
    return (high, "high") if high >= low else (low, "low")


def downsample_curve(x: np.ndarray, y: np.ndarray, points: int = 50) -> list[dict[str, float]]:
    """About `points` (x, value) pairs of a monotone curve for a chart: y interpolated on an even x grid
    (the ROC's upper envelope: the highest TPR at each FPR), endpoints kept."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    grid = np.linspace(0.0, 1.0, points)
    # np.interp needs increasing x; for a repeated x (a vertical step) take the highest y.
    ux = np.unique(x)
    uy = np.array([y[x == v].max() for v in ux])
    values = np.interp(grid, ux, uy)
    return [{"x": float(a), "value": float(b)} for a, b in zip(grid, values)]


def roc_chart(members: np.ndarray, nonmembers: np.ndarray, title: str, points: int = 50) -> dict[str, Any]:
    """The report's line-chart contract: the attack's ROC curve and the chance diagonal."""
    f, t = roc(members, nonmembers)
    grid = np.linspace(0.0, 1.0, points)
    return {
        "title": title, "x_label": "false positive rate", "y_label": "true positive rate",
        "series": {"attack": downsample_curve(f, t, points), "chance": [{"x": float(g), "value": float(g)} for g in grid]},
    }


def paired_bootstrap(
    statistic: Callable[[np.ndarray, np.ndarray], float], members: np.ndarray, nonmembers: np.ndarray, resamples: int, seed: int,
) -> np.ndarray:
    """`statistic` on `resamples` draws of (members, non-members), each set resampled independently."""
    rng = np.random.default_rng(seed)
    out = np.empty(resamples)
    for b in range(resamples):
        out[b] = statistic(members[rng.integers(0, len(members), len(members))], nonmembers[rng.integers(0, len(nonmembers), len(nonmembers))])
    return out


DCR_RATIO_CAP = 10.0
"""A record ten times closer to held-out data than to training data is plainly no training copy;
beyond that the ratio says nothing more, and with a held-out twin it would be unbounded."""


def dcr_ratios(nn_train: np.ndarray, nn_heldout: np.ndarray, floor: float = 1e-12, cap: float = DCR_RATIO_CAP) -> np.ndarray:
    """Per generated record: distance to the closest training record / to the closest held-out one,
    each distance at least `floor` (a copy's resolution: two copies compare as equally close, ratio
    1) and the ratio at most `cap` (a record equal to a held-out record is no evidence of copying)."""
    nn_train, nn_heldout = np.asarray(nn_train, np.float64), np.asarray(nn_heldout, np.float64)
    return np.minimum(np.maximum(nn_train, floor) / np.maximum(nn_heldout, floor), cap)


def _same_text(generated: str, reference: str) -> bool:
    """Equal after stripping surrounding whitespace, and not empty."""
    return generated.strip() == reference.strip() and reference.strip() != ""


def exact_match_rate(generated: list[str], references: list[str]) -> tuple[int, int]:
    """(number of generations equal to their reference continuation, number compared); generations
    are compared exactly, after stripping surrounding whitespace only."""
    if len(generated) != len(references):
        raise ValueError(f"{len(generated)} generations for {len(references)} references")
    return sum(int(_same_text(g, r)) for g, r in zip(generated, references)), len(references)


def exact_token_match_rate(
    generated: list[str], references: list[str], generated_ids: list[list[int]], reference_ids: list[list[int]],
) -> tuple[int, int]:
    """(number of generations that reproduce their reference, number compared): the text equal after
    stripping surrounding whitespace (`exact_match_rate`), or the generation's re-tokenised ids
    starting with all of the reference's ids, so a tokenizer whose decode joins words with spaces
    ("a , b" for "a, b") is compared on what it generated, not on how it spells it."""
    if not len(generated) == len(references) == len(generated_ids) == len(reference_ids):
        raise ValueError(f"{len(generated)} generations, {len(generated_ids)} tokenised, for {len(references)} references "
                         f"({len(reference_ids)} tokenised)")
    hits = sum(int(_same_text(g, r) or (len(ri) > 0 and list(gi[: len(ri)]) == list(ri)))
               for g, r, gi, ri in zip(generated, references, generated_ids, reference_ids))
    return hits, len(references)
