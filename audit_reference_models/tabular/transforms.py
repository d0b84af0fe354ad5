"""CTGAN-style data transformation (Xu et al., 2019): mode-specific normalization of continuous
columns and one-hot categoricals, plus the conditional-vector sampler (training-by-sampling).

Only `fit` uses scikit-learn (a BayesianGaussianMixture per continuous column); every fitted
parameter is plain numbers (`to_dict` / `from_dict`, stored in the model's manifest JSON), and
`transform` / `inverse_transform` are numpy, so a loaded model needs no pickle and no refit.

Continuous value x with mixture modes (mean m_k, std s_k, weight w_k): a mode k is drawn from
its posterior p(k | x), and x is encoded as [alpha, onehot(k)] with alpha = (x - m_k) / (4 s_k)
clipped to [-0.99, 0.99]. Decoding reverses it: x = alpha * 4 s_k + m_k, rounded to an integer
(every Adult numeric column is an integer) and clipped to the training range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_MODES = 10
WEIGHT_THRESHOLD = 0.005
"""Mixture components with less weight are dropped (as CTGAN does)."""
STD_SCALE = 4.0
CLIP = 0.99


@dataclass
class ContinuousColumn:
    name: str
    means: list[float]
    stds: list[float]
    weights: list[float]
    minimum: float
    maximum: float

    @property
    def modes(self) -> int:
        return len(self.means)


@dataclass
class CategoricalColumn:
    name: str
    categories: list[str]
    counts: list[int]


@dataclass(frozen=True)
class Span:
    """A block of the encoded row: `tanh` (one alpha) or `softmax` (one-hot of `dim` values)."""

    column: str
    kind: str
    start: int
    dim: int
    discrete: bool = False
    """A categorical column's one-hot (these spans make the conditional vector)."""


@dataclass
class DataTransformer:
    """Encodes a DataFrame with fixed columns as a float matrix and back."""

    columns: list[str]
    continuous: dict[str, ContinuousColumn] = field(default_factory=dict)
    categorical: dict[str, CategoricalColumn] = field(default_factory=dict)

    # ---- fitting ---------------------------------------------------------------------------

    @classmethod
    def fit(cls, frame: "pd.DataFrame", continuous: tuple[str, ...], seed: int = 0) -> "DataTransformer":  # noqa: F821
        """Fit a Dirichlet-process Gaussian mixture per continuous column (sklearn, seeded);
        categoricals keep the frame's category order and training counts."""
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import BayesianGaussianMixture
        from threadpoolctl import threadpool_limits

        out = cls(columns=list(frame.columns))
        for name in frame.columns:
            if name in continuous:
                x = frame[name].to_numpy(np.float64).reshape(-1, 1)
                # CTGAN's settings; on the spiky columns (capital gain/loss) the variational fit
                # stops at max_iter before its tolerance, which CTGAN accepts as well.
                with threadpool_limits(limits=1), warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    gm = BayesianGaussianMixture(
                        n_components=MAX_MODES, weight_concentration_prior_type="dirichlet_process",
                        weight_concentration_prior=0.001, max_iter=100, n_init=1, random_state=seed,
                    ).fit(x)
                keep = gm.weights_ > WEIGHT_THRESHOLD
                out.continuous[name] = ContinuousColumn(
                    name,
                    means=[float(v) for v in gm.means_[keep, 0]],
                    stds=[float(v) for v in np.sqrt(gm.covariances_[keep, 0, 0])],
                    weights=[float(v) for v in gm.weights_[keep]],
                    minimum=float(x.min()), maximum=float(x.max()),
                )
            else:
                cats = [str(c) for c in frame[name].cat.categories]
                counts = frame[name].value_counts().reindex(cats).fillna(0).astype(int)
                out.categorical[name] = CategoricalColumn(name, cats, [int(c) for c in counts])
        return out

    # ---- layout ----------------------------------------------------------------------------

    @property
    def spans(self) -> list[Span]:
        spans, start = [], 0
        for name in self.columns:
            if name in self.continuous:
                k = self.continuous[name].modes
                spans += [Span(name, "tanh", start, 1), Span(name, "softmax", start + 1, k)]
                start += 1 + k
            else:
                k = len(self.categorical[name].categories)
                spans.append(Span(name, "softmax", start, k, discrete=True))
                start += k
        return spans

    @property
    def output_dim(self) -> int:
        last = self.spans[-1]
        return last.start + last.dim

    @property
    def discrete_spans(self) -> list[Span]:
        return [s for s in self.spans if s.discrete]

    @property
    def cond_dim(self) -> int:
        return sum(s.dim for s in self.discrete_spans)

    # ---- encoding --------------------------------------------------------------------------

    def transform(self, frame: "pd.DataFrame", rng: np.random.Generator) -> np.ndarray:  # noqa: F821
        """[N, output_dim] float32; modes drawn from their posterior with `rng`."""
        from scipy.stats import norm

        parts = []
        for name in self.columns:
            if name in self.continuous:
                col = self.continuous[name]
                x = frame[name].to_numpy(np.float64)[:, None]
                means, stds = np.array(col.means)[None, :], np.array(col.stds)[None, :]
                logp = np.log(np.array(col.weights))[None, :] + norm.logpdf(x, means, stds)
                logp -= logp.max(axis=1, keepdims=True)
                p = np.exp(logp)
                p /= p.sum(axis=1, keepdims=True)
                u = rng.random((len(x), 1))
                mode = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), col.modes - 1)
                alpha = np.clip((x[:, 0] - means[0, mode]) / (STD_SCALE * stds[0, mode]), -CLIP, CLIP)
                onehot = np.zeros((len(x), col.modes))
                onehot[np.arange(len(x)), mode] = 1
                parts += [alpha[:, None], onehot]
            else:
                codes = self._codes(frame, name)
                onehot = np.zeros((len(codes), len(self.categorical[name].categories)))
                onehot[np.arange(len(codes)), codes] = 1
                parts.append(onehot)
        return np.concatenate(parts, axis=1).astype(np.float32)

    def _codes(self, frame: "pd.DataFrame", name: str) -> np.ndarray:  # noqa: F821
        import pandas as pd

        cats = self.categorical[name].categories
        values = frame[name].astype(str)
        if not values.isin(cats).all():
            raise ValueError(f"column {name!r} has values outside its categories")
        return pd.Categorical(values, categories=cats).codes.astype(np.int64)

    def inverse_transform(self, alphas: dict[str, np.ndarray], choices: dict[tuple[str, str], np.ndarray]) -> "pd.DataFrame":  # noqa: F821
        """A frame from decoded parts: `alphas[column]` in [-1, 1] and `choices[(column, kind)]`,
        the chosen index of each softmax span (mode for continuous, category for categorical)."""
        import pandas as pd

        data: dict[str, Any] = {}
        for name in self.columns:
            if name in self.continuous:
                col = self.continuous[name]
                mode = choices[(name, "mode")]
                x = np.clip(alphas[name], -1, 1) * STD_SCALE * np.array(col.stds)[mode] + np.array(col.means)[mode]
                data[name] = np.clip(np.round(x), col.minimum, col.maximum).astype(np.int64)
            else:
                cats = self.categorical[name].categories
                data[name] = pd.Categorical.from_codes(choices[(name, "category")], categories=cats)
        return pd.DataFrame(data, columns=self.columns)

    # ---- storage ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "CTGAN mode-specific normalization (BayesianGaussianMixture, dirichlet_process prior 0.001)",
            "max_modes": MAX_MODES, "weight_threshold": WEIGHT_THRESHOLD, "std_scale": STD_SCALE,
            "columns": self.columns,
            "continuous": {k: vars(v) for k, v in self.continuous.items()},
            "categorical": {k: vars(v) for k, v in self.categorical.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DataTransformer":
        return cls(
            columns=list(d["columns"]),
            continuous={k: ContinuousColumn(**v) for k, v in d["continuous"].items()},
            categorical={k: CategoricalColumn(**v) for k, v in d["categorical"].items()},
        )

    def categories(self) -> dict[str, list[str]]:
        return {k: list(v.categories) for k, v in self.categorical.items()}


class ConditionalSampler:
    """CTGAN's conditional vectors: pick a categorical column uniformly, then a category.

    Training (`train_batch`) draws the category with probability proportional to log(count + 1)
    (or to its count when `log_frequency` is False) and a real row holding it (training-by-sampling: rare categories are seen often enough).
    Generation (`generation_batch`) draws the category by its training frequency, so the
    conditions themselves follow the data's marginals.
    """

    def __init__(self, transformer: DataTransformer, frame: "pd.DataFrame | None" = None, log_frequency: bool = True) -> None:  # noqa: F821
        self.spans = transformer.discrete_spans
        self.offsets = np.cumsum([0] + [s.dim for s in self.spans])[:-1]
        self.cond_dim = transformer.cond_dim
        counts = [np.array(transformer.categorical[s.column].counts, dtype=np.float64) for s in self.spans]
        self.log_probs = [np.log(c + 1) / np.log(c + 1).sum() for c in counts] if log_frequency else [c / c.sum() for c in counts]
        self.freq_probs = [c / c.sum() for c in counts]
        self.sorted_rows: list[np.ndarray] = []
        self.starts: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []
        if frame is not None:
            for s in self.spans:
                codes = transformer._codes(frame, s.column)
                self.sorted_rows.append(np.argsort(codes, kind="stable"))
                count = np.bincount(codes, minlength=s.dim)
                self.counts.append(count)
                self.starts.append(np.concatenate([[0], np.cumsum(count)[:-1]]))

    def _draw(self, n: int, probs: list[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        columns = rng.integers(0, len(self.spans), n)
        categories = np.empty(n, dtype=np.int64)
        for j in range(len(self.spans)):
            idx = np.flatnonzero(columns == j)
            if len(idx):
                categories[idx] = rng.choice(len(probs[j]), size=len(idx), p=probs[j])
        cond = np.zeros((n, self.cond_dim), dtype=np.float32)
        cond[np.arange(n), self.offsets[columns] + categories] = 1
        return cond, columns, categories

    def train_batch(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cond [n, cond_dim], chosen column index [n], real row indices [n] matching the cond)."""
        cond, columns, categories = self._draw(n, self.log_probs, rng)
        u = rng.random(n)
        rows = np.empty(n, dtype=np.int64)
        for j in range(len(self.spans)):
            idx = np.flatnonzero(columns == j)
            k = categories[idx]
            pick = self.starts[j][k] + np.floor(u[idx] * self.counts[j][k]).astype(np.int64)
            rows[idx] = self.sorted_rows[j][pick]
        return cond, columns, rows

    def generation_batch(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self._draw(n, self.freq_probs, rng)[0]
